/// The domains of a pipeline composed into one typed async function, from the first domain's input to
/// the last domain's output.
///
/// You rarely name this type: ``Pipeline/then(_:)`` and ``PipelineBuilder`` build it. Because each step
/// is appended with `where D.Input == Output`, a chain whose types don't line up does not compile.
public struct PipelineStages<Input: Sendable, Output: Sendable>: Sendable {
    /// The domains' names, in order; a domain's index here is its index in the monitor.
    @usableFromInline let names: [String]
    /// Runs every domain in order, timing each into `monitor`. A domain's error leaves as a
    /// ``StageFailure`` naming the domain; a cancellation seen between domains leaves as `CancellationError`.
    ///
    /// `nonisolated(nonsending)`, like the helpers below: they run where their caller runs (the message's
    /// task, on the worker), so a call is a plain call. A plain nonisolated async function starts with an
    /// executor check (`swift_task_switch`, which looks up the task's executor preference under a lock):
    /// about 300 instructions per call, six calls per message through four domains (measured).
    @usableFromInline let run: nonisolated(nonsending) @Sendable (Input, PipelineMonitor) async throws -> Output

    /// A single domain. Inlinable, like everything a message runs through, so that client code gets it
    /// specialised for its domain types (unspecialised, the runtime looks up generic metadata per call).
    @inlinable
    init<D: AsyncDomain>(_ domain: D) where D.Input == Input, D.Output == Output {
        self.init(chain: FirstDomain(domain))
    }

    /// The domains of `chain`, run as one specialised function (see ``DomainChain``).
    @inlinable
    init<Chain: DomainChain>(chain: Chain) where Chain.Input == Input, Chain.Output == Output {
        self.names = chain.names
        self.run = { input, monitor in
            try await chain.run(input, monitor)
        }
    }

    /// These stages followed by `next`; only compiles when `next` consumes what these stages produce.
    ///
    /// What ``Pipeline/then(_:)`` uses: these stages' types are already erased into ``run``, so the new
    /// chain calls that closure, then `next` (``DomainChain`` says what that costs).
    @inlinable
    func appending<D: AsyncDomain>(_ next: D) -> PipelineStages<Input, D.Output> where D.Input == Output {
        PipelineStages<Input, D.Output>(chain: NextDomain(ErasedStages(self), next))
    }

    /// Runs one domain — each attempt timed and recorded, retried as its ``AsyncDomain/retryPolicy``
    /// says, bounded by its ``AsyncDomain/timeout`` — and tags the final error with the domain's index.
    ///
    /// The first attempt is all most messages need; the retry loop is a separate function, so this one's
    /// async frame stays small (every message's task allocates the frames of its domains in turn).
    @inlinable
    nonisolated(nonsending) static func measure<D: AsyncDomain>(
        _ domain: D,
        _ input: D.Input,
        index: Int,
        _ monitor: PipelineMonitor
    ) async throws -> D.Output {
        do {
            return try await recordedAttempt(domain, input, index: index, monitor)
        } catch {
            return try await retry(domain, input, index: index, monitor, after: error)
        }
    }

    /// One attempt, timed and recorded in `monitor` whatever its outcome.
    @inlinable
    nonisolated(nonsending) static func recordedAttempt<D: AsyncDomain>(
        _ domain: D,
        _ input: D.Input,
        index: Int,
        _ monitor: PipelineMonitor
    ) async throws -> D.Output {
        let start = MonotonicClock.nanoseconds()
        do {
            let output = try await attemptOnce(domain, input)
            monitor.recordDomain(index, nanoseconds: MonotonicClock.nanoseconds() &- start, error: nil)
            return output
        } catch {
            monitor.recordDomain(index, nanoseconds: MonotonicClock.nanoseconds() &- start, error: error)
            throw error
        }
    }

    /// The attempts after a failed first one, as the domain's ``AsyncDomain/retryPolicy`` says.
    @inlinable
    nonisolated(nonsending) static func retry<D: AsyncDomain>(
        _ domain: D,
        _ input: D.Input,
        index: Int,
        _ monitor: PipelineMonitor,
        after firstError: any Error
    ) async throws -> D.Output {
        let policy = domain.retryPolicy
        var attempt = 1
        var error = firstError
        while true {
            guard policy.shouldRetry(after: error, attempt: attempt), !Task.isCancelled else {
                throw StageFailure(stage: index, error: error)
            }
            attempt += 1
            monitor.recordRetry(index)
            // Cancellation (send timeout, shutdown) ends the wait, and the message, with CancellationError.
            try await Task.sleep(for: policy.backoff(beforeAttempt: attempt, unit: Double.random(in: 0..<1)))
            do {
                return try await recordedAttempt(domain, input, index: index, monitor)
            } catch let failure {
                error = failure
            }
        }
    }

    /// One attempt; with a timeout, the attempt races a sleep (see ``attempt(_:_:within:)``). Without one
    /// (the common case) it is a plain call, kept apart from the task-group race so that its async frame
    /// stays small.
    @inlinable
    nonisolated(nonsending) static func attemptOnce<D: AsyncDomain>(
        _ domain: D,
        _ input: D.Input
    ) async throws -> D.Output {
        // A huge timeout means no limit (and `Task.sleep` would trap on it).
        guard let timeout = domain.timeout, timeout < Deadline.longestTimeout else {
            return try await domain.execute(input)
        }
        return try await attempt(domain, input, within: timeout)
    }

    /// One attempt racing a sleep of `timeout` in a task group (both children run on the message's
    /// worker); the loser is cancelled.
    @inlinable
    nonisolated(nonsending) static func attempt<D: AsyncDomain>(
        _ domain: D,
        _ input: D.Input,
        within timeout: Duration
    ) async throws -> D.Output {
        try await withThrowingTaskGroup(of: D.Output.self) { group in
            group.addTask { try await domain.execute(input) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw DomainTimedOut(domain: domain.name, timeout: timeout)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else {
                throw DomainTimedOut(domain: domain.name, timeout: timeout)  // unreachable: two children
            }
            return first
        }
    }
}

/// Carries a domain's error out of ``PipelineStages/run`` together with the domain's index. Internal: the
/// pipeline unwraps it, so callers and subscribers only ever see the domain's own error.
@usableFromInline
struct StageFailure: Error {
    @usableFromInline var stage: Int
    @usableFromInline var error: any Error

    @usableFromInline
    init(stage: Int, error: any Error) {
        self.stage = stage
        self.error = error
    }
}

/// Stages whose domains' types are erased into their closure, as the start of a ``DomainChain``: what
/// ``PipelineStages/appending(_:)`` extends.
@usableFromInline
struct ErasedStages<Input: Sendable, Output: Sendable>: DomainChain {
    @usableFromInline let stages: PipelineStages<Input, Output>

    @inlinable
    init(_ stages: PipelineStages<Input, Output>) {
        self.stages = stages
    }

    @inlinable
    var names: [String] { stages.names }

    @inlinable
    nonisolated(nonsending) func run(_ input: Input, _ monitor: PipelineMonitor) async throws -> Output {
        try await stages.run(input, monitor)
    }
}
