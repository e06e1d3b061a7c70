import Foundation

/// Runs async work for synchronous callers on a ``Worker``: blocking calls with timeouts and deadlock
/// detection, and fire-and-forget calls that return a ``TaskFuture``.
///
/// Any number of dispatchers may share a worker; any thread may use a dispatcher. The calls callers
/// write (`execute(_:timeout:)`, `execute(timeout:_:)`, `executeAsync(_:)`) come from ``Dispatcher``'s
/// extension; this type implements the two requirements they end in, on any worker — a
/// ``ThreadWorker``, a ``ManualWorker`` in tests, or your own.
///
/// ```swift
/// let dispatcher = TaskDispatcher(worker: ThreadWorker(name: "bridge"))
/// let n = try dispatcher.execute(timeout: .seconds(1)) { await counter.next() }
/// ```
public final class TaskDispatcher: Dispatcher {
    /// The worker that runs the tasks.
    public let worker: any Worker
    /// What blocking calls made from inside a Swift task do (see ``BlockingCallDiagnostics``).
    public let diagnostics: BlockingCallDiagnostics
    /// The worker's timeout counter, when it keeps one (``ThreadWorker/metrics()`` counts the blocking
    /// calls that timed out). Looked up once; used only on the timeout path.
    @usableFromInline let timeoutCounter: (any TimeoutCounting)?
    /// `worker` when it is a ``ThreadWorker``: calls go through it directly, specialised for their value
    /// type in client code. Through the existential, `submit` runs unspecialised and looks up generic
    /// metadata at run time (measured on `Pipeline.post`: 15 lookups per call, 18% of its instructions).
    @usableFromInline let threadWorker: ThreadWorker?

    /// Creates a dispatcher over `worker` (started on first use if it is not running yet).
    /// - Parameters:
    ///   - worker: The worker that runs the tasks.
    ///   - diagnostics: The policy for blocking calls made from inside a Swift task; by default the
    ///     process-wide ``BlockingCallDiagnostics/shared``.
    public init(worker: some Worker, diagnostics: BlockingCallDiagnostics = .shared) {
        self.worker = worker
        self.threadWorker = worker as? ThreadWorker
        self.timeoutCounter = worker as? any TimeoutCounting
        self.diagnostics = diagnostics
    }

    /// Runs `operation` on the worker and blocks the calling thread until it finishes (the ``Dispatcher``
    /// requirement every `execute` spelling ends in; see ``Dispatcher/execute(_:timeout:fileID:line:)-(_,Duration?,_,_)``).
    ///
    /// The deadline covers the wait for room on a full worker too: a call that times out there has
    /// started nothing.
    @inlinable
    public func execute<T>(
        _ operation: sending @escaping () async throws -> T,
        timeout: Duration?,
        _ submission: Submission
    ) throws -> sending T {
        if let threadWorker { return try execute(on: threadWorker, operation, timeout: timeout, submission) }
        return try execute(on: worker, operation, timeout: timeout, submission)
    }

    /// The body of ``execute(_:timeout:_:)``, generic over the worker: called with a worker whose type is
    /// known statically (the shared `ThreadWorker` behind `runAsyncTask`), the submission is specialised
    /// for the value type instead of going through the protocol witness.
    @inlinable
    func execute<W: Worker, T>(
        on worker: W,
        _ operation: sending @escaping () async throws -> T,
        timeout: Duration?,
        _ submission: Submission
    ) throws -> sending T {
        if worker.isCurrentThread { throw AsyncWorkerError.wouldDeadlock }
        try diagnostics.refuseIfFailing(submission)
        if let timeout, timeout <= .zero {
            timeoutCounter?.recordTimeout()
            throw AsyncWorkerError.timedOut
        }
        let deadline = Deadline.after(timeout)
        // The value crosses from the task to this one caller: nothing else can reach the future, so the
        // hand-off box may carry a non-Sendable value (see `Handoff`). A `ThreadWorker` (the static type
        // here once specialised, so the cast folds away) runs the call as an operation value, with no
        // wrapping closure: one allocation, one async frame and one executor switch fewer per call.
        let call = submission.waitingForRoom(until: deadline).waitingForResult()
        let future =
            if let threadWorker = worker as? ThreadWorker {
                threadWorker.submit(operation: BlockingCall(operation), call)
            } else {
                worker.submit({ Handoff(try await operation()) }, call)
            }
        // Off the critical path: the worker is starting the operation meanwhile.
        diagnostics.reportIfReporting(submission)
        guard let result = try future.wait(until: deadline, diagnostics: nil) else {
            future.cancel()
            timeoutCounter?.recordTimeout()
            throw AsyncWorkerError.timedOut
        }
        return try result.get().take()
    }

    /// ``executeAsync(_:_:)`` for one of the library's own operation values (a pipeline message): a
    /// ``ThreadWorker`` runs it with no closure in between (see ``ThreadWorker/submit(operation:_:)``);
    /// another worker gets it wrapped in one.
    @inlinable
    func executeAsync<Operation: WorkerOperation>(
        operation: Operation,
        _ submission: Submission
    ) -> TaskFuture<Operation.Value> {
        if let threadWorker { return threadWorker.submit(operation: operation, submission) }
        return worker.submit({ try await operation.call() }, submission)
    }

    /// Starts `operation` on the worker and returns its future at once (the ``Dispatcher`` requirement
    /// that ``Dispatcher/executeAsync(_:fileID:line:)`` ends in).
    ///
    /// The future is already failed with ``AsyncWorkerError/shutDown`` if the worker is shut down.
    @inlinable
    public func executeAsync<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        _ submission: Submission
    ) -> TaskFuture<T> {
        if let threadWorker { return threadWorker.submit(operation, submission) }
        return worker.submit(operation, submission)
    }

    /// ``executeAsync(_:_:)`` on a worker whose type is known statically; see ``execute(on:_:timeout:_:)``.
    @inlinable
    func executeAsync<W: Worker, T: Sendable>(
        on worker: W,
        _ operation: sending @escaping () async throws -> T,
        _ submission: Submission
    ) -> TaskFuture<T> {
        worker.submit(operation, submission)
    }
}

/// A worker that counts the blocking calls on it that timed out (``WorkerMetrics/timedOut``).
@usableFromInline
protocol TimeoutCounting: Sendable {
    func recordTimeout()
}

/// Carries the value of a blocking call from its task to the one caller waiting for it.
///
/// `@unchecked Sendable`, honestly: the operation was `sending` (the caller kept no reference into
/// it), the task stops touching the value when it returns it, and the future that holds the box is
/// private to the blocking call, so exactly one thread — the caller — receives the value.
@usableFromInline
struct Handoff<Value>: @unchecked Sendable {
    // @unchecked: one caller receives the value, once (see above); nothing else can reach it.
    @usableFromInline var value: Value

    @inlinable
    init(_ value: consuming Value) { self.value = value }

    @inlinable
    consuming func take() -> sending Value {
        nonisolated(unsafe) let value = self.value
        return value
    }
}

/// A blocking call's operation, run by the worker's task, its result boxed for the one waiting caller.
@usableFromInline
struct BlockingCall<T>: WorkerOperation, @unchecked Sendable {
    // @unchecked: made only from a `sending` closure, which the caller gave up; only the task calls it.
    @usableFromInline let operation: () async throws -> T

    @inlinable
    init(_ operation: sending @escaping () async throws -> T) { self.operation = operation }

    @inlinable @inline(__always)
    nonisolated(nonsending) func call() async throws -> Handoff<T> { Handoff(try await operation()) }
}
