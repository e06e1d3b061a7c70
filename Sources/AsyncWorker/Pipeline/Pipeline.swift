import Foundation

/// A chain of ``AsyncDomain``s that synchronous code drives: each message runs through every domain, in
/// order, as one task on a worker thread, while the caller blocks
/// (``send(_:timeout:fileID:line:)-(_,Duration?,_,_)``), takes a future (``post(_:fileID:line:)``) or feeds a
/// whole sequence (``run(_:progressInterval:fileID:line:progress:)``).
///
/// ```swift
/// let pipeline = Pipeline(Parse()).then(Enrich()).then(Export())   // a type mismatch does not compile
/// pipeline.onOutput { ok in … }                                    // any number of subscribers
/// let ok = try pipeline.send("{…}", timeout: .seconds(1))           // blocking, from sync code
/// let f = pipeline.post("{…}")                                      // TaskFuture<Bool>
/// let summary = try pipeline.run(lines) { print($0.finished) }      // a whole sequence, bounded
/// print(pipeline.monitor.snapshot().table)
/// pipeline.shutdown(timeout: .seconds(5))
/// ```
///
/// **Where things run.** Every message is a task on the pipeline's worker (the shared worker behind
/// ``runAsyncTask(_:timeout:fileID:line:)-(_,Duration?,_,_)`` unless you pass one), so the domains and the
/// non-isolated async code they call run on that one thread; messages interleave at every `await`, so many
/// are in flight at once. Each domain's run is timed into ``monitor``.
///
/// **Backpressure.** At most `maxInFlight` messages are in flight. A message holds its slot from the
/// moment it is accepted until its future is resolved; ``post(_:fileID:line:)``,
/// ``send(_:timeout:fileID:line:)-(_,Duration?,_,_)`` and ``run(_:progressInterval:fileID:line:progress:)``
/// block the calling thread while every slot is taken, so a producer faster than the pipeline is held back
/// and memory stays bounded. On the worker's own thread
/// (in a domain or a subscriber) ``post(_:fileID:line:)`` never waits for a slot, because only that thread can free
/// one: it admits the message beyond the limit.
///
/// **Failures.** A domain that throws fails that message only: its future fails with the domain's own
/// error, ``onFailure(_:)`` subscribers are told, the monitor counts it, and later messages flow on.
///
/// **Subscribers** (``onOutput(_:)``, ``onFailure(_:)``) are called once per message, on the thread that
/// finishes it (normally the worker's), with no lock held, after the monitor has counted the message and
/// before its future resolves: when ``send(_:timeout:fileID:line:)-(_,Duration?,_,_)`` or
/// ``run(_:progressInterval:fileID:line:progress:)`` returns, every subscriber has seen the messages it sent.
///
/// **Shutdown.** ``shutdown(timeout:)-(Duration?)`` stops intake, lets in-flight messages finish until the timeout,
/// then abandons the rest; every future is resolved when it returns. The worker is not shut down: the
/// pipeline does not own it.
///
/// - Important: ``send(_:timeout:fileID:line:)-(_,Duration?,_,_)``, ``post(_:fileID:line:)`` and
///   ``run(_:progressInterval:fileID:line:progress:)`` block the calling thread. Don't call them from async
///   code on the cooperative pool; await ``TaskFuture/value`` of a ``post(_:fileID:line:)`` there, or call
///   the domains directly.
public final class Pipeline<Input: Sendable, Output: Sendable>: Sendable {
    /// The per-domain and per-run numbers of this pipeline. See ``PipelineMonitor/snapshot()``.
    public let monitor: PipelineMonitor
    /// The most messages in flight at once (at least 1).
    public let maxInFlight: Int
    @usableFromInline let stages: PipelineStages<Input, Output>
    /// The worker the pipeline was given, `nil` for the shared one: what ``then(_:)`` passes on.
    @usableFromInline let givenWorker: (any Worker)?
    @usableFromInline let worker: any Worker
    /// Submits the messages' tasks to `worker`: through it, a ``ThreadWorker`` (the shared one included)
    /// gets them specialised for `Output` in client code (see ``TaskDispatcher``).
    @usableFromInline let dispatcher: TaskDispatcher
    @usableFromInline let storage: PipelineStorage<Input, Output>

    /// A pipeline of one domain; add more with ``then(_:)``.
    ///
    /// - Parameters:
    ///   - domain: The first domain.
    ///   - worker: The worker whose thread runs the messages — any ``Worker``: a ``ThreadWorker``, a
    ///     ``ManualWorker`` in tests; `nil` (the default) uses the shared worker. The pipeline never shuts
    ///     the worker down: a worker you pass is yours to shut down, after the pipeline.
    ///   - maxInFlight: The most messages in flight at once; values below 1 mean 1.
    ///   - monitorWindow: How many recent durations per domain the monitor's percentiles cover; values
    ///     below 1 mean 1.
    @inlinable
    public convenience init<D: AsyncDomain>(
        _ domain: D,
        worker: (any Worker)? = nil,
        maxInFlight: Int = 64,
        monitorWindow: Int = 1024
    ) where D.Input == Input, D.Output == Output {
        self.init(
            stages: PipelineStages(domain),
            worker: worker,
            maxInFlight: maxInFlight,
            monitorWindow: monitorWindow
        )
    }

    /// A pipeline of the domains listed in `stages`, one per line; see ``PipelineBuilder``.
    ///
    /// ```swift
    /// let pipeline = Pipeline(maxInFlight: 16) {
    ///     Parse()
    ///     Enrich()
    ///     Export()
    /// }
    /// ```
    ///
    /// The parameters are those of ``init(_:worker:maxInFlight:monitorWindow:)``.
    @inlinable
    public convenience init(
        worker: (any Worker)? = nil,
        maxInFlight: Int = 64,
        monitorWindow: Int = 1024,
        @PipelineBuilder _ stages: () -> PipelineStages<Input, Output>
    ) {
        self.init(stages: stages(), worker: worker, maxInFlight: maxInFlight, monitorWindow: monitorWindow)
    }

    @usableFromInline
    init(stages: PipelineStages<Input, Output>, worker: (any Worker)?, maxInFlight: Int, monitorWindow: Int) {
        self.stages = stages
        self.givenWorker = worker
        self.worker = worker ?? sharedDispatcher.worker
        self.dispatcher = TaskDispatcher(worker: self.worker)
        self.maxInFlight = max(1, maxInFlight)
        self.monitor = PipelineMonitor(domainNames: stages.names, windowSize: monitorWindow)
        self.storage = PipelineStorage(maxInFlight: self.maxInFlight, monitor: monitor)
    }

    /// A new pipeline: these domains followed by `next`, with the same worker, `maxInFlight` and monitor
    /// window. Compiles only if `next` consumes this pipeline's output.
    ///
    /// The new pipeline starts fresh: it has its own slots, monitor and subscribers, and this one is
    /// left as it was.
    @inlinable
    public func then<D: AsyncDomain>(_ next: D) -> Pipeline<Input, D.Output> where D.Input == Output {
        Pipeline<Input, D.Output>(
            stages: stages.appending(next),
            worker: givenWorker,
            maxInFlight: maxInFlight,
            monitorWindow: monitor.windowSize
        )
    }

    /// The domains' names, in order.
    public var domainNames: [String] { stages.names }

    /// How many messages are in flight now: accepted, and their future not yet resolved. A gauge: it may
    /// have changed by the time you read it.
    public var inFlightCount: Int { storage.inFlightCount }

    // MARK: Subscribers

    /// Adds a subscriber that receives every output produced after it was added, exactly once each.
    ///
    /// Called on the thread that finishes the message (normally the worker's; a message abandoned at
    /// shutdown is reported on the thread calling ``shutdown(timeout:)-(Duration?)``), with no lock held, after the
    /// monitor has counted the message and before the message's future resolves. Subscribers are called in
    /// the order they were added. Keep a subscriber short: it holds the worker's thread, and a blocking
    /// call there throws ``AsyncWorkerError/wouldDeadlock``. It may call ``post(_:fileID:line:)``, which does not wait
    /// for a slot on the worker's thread.
    public func onOutput(_ handler: @escaping @Sendable (Output) -> Void) {
        storage.addOutputHandler(handler)
    }

    /// Adds a subscriber that is told of every message that fails after it was added, exactly once each:
    /// a domain threw, the message was cancelled, or it was abandoned at shutdown.
    ///
    /// Called like the ``onOutput(_:)`` subscribers, on the thread that finishes the message.
    public func onFailure(_ handler: @escaping @Sendable (PipelineFailure<Input>) -> Void) {
        storage.addFailureHandler(handler)
    }

    // MARK: Driving from synchronous code

    /// Starts `input` through the pipeline and returns its future, blocking while every slot is taken.
    ///
    /// On the worker's own thread it never waits: the message is admitted even beyond `maxInFlight`.
    /// The future is already failed with ``AsyncWorkerError/shutDown`` if the pipeline is shut down.
    ///
    /// - Parameters:
    ///   - input: The message.
    ///   - fileID: Where the call is made: the message task's site in stall reports; leave the default.
    ///   - line: The line of the call, likewise.
    /// - Returns: The message's future: the last domain's output, or the error that failed the message
    ///   (a domain's own error, unchanged). ``TaskFuture/cancel()`` cancels the message.
    @inlinable
    public func post(_ input: Input, fileID: StaticString = #fileID, line: UInt = #line) -> TaskFuture<Output> {
        switch start(input, slotDeadline: .never, Submission(fileID: fileID, line: line, api: "Pipeline.post(_:)")) {
        case .success(let future): return future
        case .failure(let error): return TaskFuture(resolved: .failure(error))
        }
    }

    /// Sends `input` through the pipeline and blocks until it comes out, then returns the output.
    ///
    /// The timeout covers the wait for a slot and the run. When it passes, the call throws
    /// ``AsyncWorkerError/timedOut`` at the deadline and the message is cancelled (it stops at the next
    /// `await` that honours cancellation, or at the next domain boundary).
    ///
    /// - Parameters:
    ///   - input: The message.
    ///   - timeout: How long to wait; `nil` waits as long as it takes. Zero or less throws
    ///     ``AsyncWorkerError/timedOut`` without sending.
    ///   - fileID: Where the call is made, for stall reports and the blocking-in-task report; leave the default.
    ///   - line: The line of the call, likewise.
    /// - Returns: The last domain's output.
    /// - Throws: The error of the domain that failed the message, unchanged; ``AsyncWorkerError/timedOut``;
    ///   ``AsyncWorkerError/shutDown`` if the pipeline (or its worker) is shut down;
    ///   ``AsyncWorkerError/wouldDeadlock`` on the worker's own thread.
    @inlinable
    public func send(
        _ input: Input,
        timeout: Duration? = nil,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> Output {
        if worker.isCurrentThread { throw AsyncWorkerError.wouldDeadlock }
        if let timeout, timeout <= .zero { throw AsyncWorkerError.timedOut }
        let deadline = Deadline.after(timeout)
        let call = Submission(fileID: fileID, line: line, api: "Pipeline.send(_:timeout:)")
        let future = try start(input, slotDeadline: deadline, call).get()
        guard let result = try future.wait(until: deadline, call: call) else {
            future.cancel()
            throw AsyncWorkerError.timedOut
        }
        return try result.get()
    }

    /// ``send(_:timeout:fileID:line:)-(_,Duration?,_,_)`` with the timeout in seconds, for code that keeps
    /// `TimeInterval`s: NaN or negative values time out at once, infinite or huge ones mean no timeout.
    @inlinable
    public func send(
        _ input: Input,
        timeout seconds: TimeInterval,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> Output {
        try send(input, timeout: Deadline.duration(fromSeconds: seconds), fileID: fileID, line: line)
    }

    /// Drives every element of `inputs` through the pipeline and blocks until all are done, with at most
    /// ``maxInFlight`` in flight: the sequence is consumed only as fast as slots free up, so memory stays
    /// bounded whatever its length.
    ///
    /// `progress` is called on the calling thread (so it needs not be `Sendable`), throttled: at most once
    /// per `progressInterval` (100 ms by default) while the run goes on, and once more at the end with the
    /// final counts. So a run shorter than the interval calls it exactly once, at the end; pass a shorter
    /// interval for finer progress. Failed messages don't stop the run; a ``shutdown(timeout:)-(Duration?)``
    /// does: the rest of the sequence is left unconsumed and the summary says so.
    ///
    /// ```swift
    /// let summary = try pipeline.run(lines) { progress in
    ///     print("\(progress.finished) done, \(progress.failed) failed")
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - inputs: The messages, consumed lazily, in order.
    ///   - progressInterval: The least time between two progress calls.
    ///   - fileID: Where the call is made: the message tasks' site in stall reports and the blocking-in-task
    ///     report; leave the default.
    ///   - line: The line of the call, likewise.
    ///   - progress: Told how the run stands; optional.
    /// - Returns: The counts, failures by error type and elapsed time.
    /// - Throws: ``AsyncWorkerError/wouldDeadlock`` on the worker's own thread.
    @inlinable
    public func run(
        _ inputs: some Sequence<Input>,
        progressInterval: Duration = .milliseconds(100),
        fileID: StaticString = #fileID,
        line: UInt = #line,
        progress: ((RunProgress) -> Void)? = nil
    ) throws -> RunSummary {
        if worker.isCurrentThread { throw AsyncWorkerError.wouldDeadlock }
        let call = Submission(fileID: fileID, line: line, api: "Pipeline.run(_:)")
        let tracker = RunTracker()
        // One handler for the whole run frees each message's slot after the tracker counted it.
        let storage = self.storage
        let finisher: @Sendable (UInt64, Result<Output, any Error>) -> Void = { id, result in
            storage.finish(id, result, tracker: tracker)
        }
        let clock = ContinuousClock()
        let started = clock.now
        var nextProgress = started + progressInterval
        var wasInterrupted = false
        for input in inputs {
            guard case .success = start(input, slotDeadline: .never, call, run: (tracker, finisher)) else {
                // The only refusal without a deadline: the pipeline is shut down.
                wasInterrupted = true
                break
            }
            if let progress, clock.now >= nextProgress {
                progress(tracker.progress(elapsed: clock.now - started))
                nextProgress = clock.now + progressInterval
            }
        }
        while !tracker.waitUntilFinished(until: progress == nil ? .never : Deadline.after(progressInterval)) {
            progress?(tracker.progress(elapsed: clock.now - started))
        }
        let elapsed = clock.now - started
        progress?(tracker.progress(elapsed: elapsed))
        return tracker.summary(elapsed: elapsed, wasInterrupted: wasInterrupted)
    }

    // MARK: Shutdown

    /// Stops the pipeline: refuses new messages (``send(_:timeout:fileID:line:)-(_,Duration?,_,_)`` and
    /// ``post(_:fileID:line:)`` then fail with ``AsyncWorkerError/shutDown``, callers waiting for a slot too),
    /// lets in-flight messages finish until `timeout`, then abandons the rest.
    ///
    /// An abandoned message is cancelled, its future resolved with ``AsyncWorkerError/shutDown``, the
    /// monitor counts it as failed and the ``onFailure(_:)`` subscribers are told, on this thread. When
    /// shutdown returns, every message the pipeline accepted is resolved. The worker keeps running: shut
    /// down a worker you passed in yourself, after the pipeline; the shared worker is never shut down.
    ///
    /// Called on the worker's own thread it does not wait (the messages need that thread): it abandons
    /// what is in flight at once. Calling it again returns the first call's report; a concurrent second
    /// call waits for the first, within its own `timeout` plus one second. Called from a subscriber that
    /// this shutdown itself runs (an ``onFailure(_:)`` told of an abandoned message, say: "stop on the
    /// first failure"), it returns at once, marked ``PipelineShutdownReport/wasAlreadyShutDown``.
    ///
    /// - Parameter timeout: How long in-flight messages may run on; `nil` waits as long as they take.
    /// - Returns: How many messages drained and how many were abandoned.
    @discardableResult
    public func shutdown(timeout: Duration? = nil) -> PipelineShutdownReport {
        storage.shutdown(timeout: timeout, onWorkerThread: worker.isCurrentThread)
    }

    /// ``shutdown(timeout:)-(Duration?)`` with the timeout in seconds, for code that keeps `TimeInterval`s:
    /// NaN or negative values abandon in-flight messages at once, infinite or huge ones wait for them.
    @discardableResult
    public func shutdown(timeout seconds: TimeInterval) -> PipelineShutdownReport {
        shutdown(timeout: Deadline.duration(fromSeconds: seconds))
    }

    // MARK: Internals

    /// Admits `input` (waiting for a slot until `slotDeadline`, except on the worker's thread) and starts
    /// its task; fails if the pipeline is shut down or the deadline passed first. Within a `run`, its
    /// tracker counts the message's outcome before its slot is freed, so a run never sees more than
    /// `maxInFlight` in flight: the run's `finisher`, one slot-freeing handler for all its messages, tells
    /// it. Outside a run, the handler frees the slot only.
    /// Inlinable with ``post(_:fileID:line:)`` and ``send(_:timeout:fileID:line:)-(_,Duration?,_,_)``, so that
    /// client code runs the message path specialised for its types.
    @inlinable
    func start(
        _ input: Input,
        slotDeadline: Deadline,
        _ call: Submission,
        run: (tracker: RunTracker, finisher: @Sendable (UInt64, Result<Output, any Error>) -> Void)? = nil
    ) -> Result<TaskFuture<Output>, AsyncWorkerError> {
        let onWorkerThread = worker.isCurrentThread
        let id: UInt64
        switch storage.admit(input, ignoringLimit: onWorkerThread, until: slotDeadline) {
        case .success(let admitted): id = admitted
        case .failure(let error): return .failure(error)
        }
        run?.tracker.noteSubmitted()
        let storage = self.storage
        let message = PipelineMessage(stages: stages, storage: storage, id: id, input: input)
        // The slot's deadline bounds the wait for room on a full worker too.
        let future = dispatcher.executeAsync(operation: message, call.waitingForRoom(until: slotDeadline))
        storage.attach(future, to: id)
        // Runs once the future is resolved, whoever resolved it: settles the message if its task never
        // did (the worker refused or abandoned it) and frees the slot.
        // Keyed by the message's id, so a handler that captures only `storage` (or a run's shared one)
        // serves every message: no closure context is allocated per message.
        if let run {
            future.onComplete(key: id, run.finisher)
        } else {
            future.onComplete(key: id) { id, result in storage.finish(id, result, tracker: nil) }
        }
        return .success(future)
    }
}
