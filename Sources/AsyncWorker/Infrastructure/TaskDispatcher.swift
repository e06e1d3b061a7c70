import Foundation

/// Runs async work for synchronous callers on a ``Worker``: blocking calls with timeouts and deadlock
/// detection, and fire-and-forget calls that return a ``TaskFuture``.
///
/// Any number of dispatchers may share a worker; any thread may use a dispatcher.
///
/// ```swift
/// let dispatcher = TaskDispatcher(worker: ThreadWorker(name: "bridge"))
/// let n = try dispatcher.execute({ await counter.next() }, timeout: .seconds(1))
/// ```
public final class TaskDispatcher: Dispatcher {
    /// The worker that runs the tasks.
    public let worker: any Worker
    /// `worker` when it is a ``ThreadWorker``: calls through it are specialised for the value type instead
    /// of going through the protocol's generic witness.
    @usableFromInline let threadWorker: ThreadWorker?
    /// What blocking calls made from inside a Swift task do (see ``BlockingCallDiagnostics``).
    public let diagnostics: BlockingCallDiagnostics

    /// Creates a dispatcher over `worker` (started on first use if it is not running yet).
    /// - Parameters:
    ///   - worker: The worker that runs the tasks.
    ///   - diagnostics: The policy for blocking calls made from inside a Swift task; by default the
    ///     process-wide ``BlockingCallDiagnostics/shared``.
    public init(worker: some Worker, diagnostics: BlockingCallDiagnostics = .shared) {
        self.worker = worker
        self.threadWorker = worker as? ThreadWorker
        self.diagnostics = diagnostics
    }

    /// Submits through the concrete worker when there is one (the common case).
    @inlinable
    func submit<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        fileID: StaticString,
        line: UInt,
        roomDeadline: Deadline = .never
    ) -> TaskFuture<T> {
        if let threadWorker {
            return threadWorker.submit(operation, fileID: fileID, line: line, roomDeadline: roomDeadline)
        }
        return worker.submit(operation)
    }

    /// Runs `operation` on the worker and blocks the calling thread until it finishes.
    ///
    /// The deadline is kept by the calling thread on the monotonic clock, so the call returns at the
    /// deadline even when the worker's thread is held by a badly behaved operation. The task is then
    /// cancelled; the call does not wait for it to honour the cancellation.
    ///
    /// - Parameters:
    ///   - operation: The async work. Its thrown errors reach the caller unchanged.
    ///   - timeout: How long to wait; `nil` waits as long as it takes. Zero or less throws
    ///     ``AsyncWorkerError/timedOut`` without starting the operation; a huge value means no timeout.
    /// - Returns: The value `operation` returned.
    /// - Throws: ``AsyncWorkerError/timedOut``; ``AsyncWorkerError/wouldDeadlock`` on the worker's own
    ///   thread (at once, whatever the timeout); ``AsyncWorkerError/shutDown`` if the worker is shut down;
    ///   ``AsyncWorkerError/blockingInAsyncContext`` if called from inside a Swift task under the
    ///   ``BlockingInTaskPolicy/fail`` policy; or the operation's own error.
    ///
    /// `fileID` and `line` record where the task was submitted, for stall reports
    /// (``ThreadWorker/onStall(threshold:perform:)``): leave the defaults, or forward your own caller's.
    @inlinable
    public func execute<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        timeout: Duration? = nil,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> T {
        if worker.isCurrentThread { throw AsyncWorkerError.wouldDeadlock }
        try diagnostics.refuseIfFailing()
        if let timeout, timeout <= .zero {
            threadWorker?.counters.recordTimeout()
            throw AsyncWorkerError.timedOut
        }
        let deadline = Deadline.after(timeout)
        // The deadline covers the wait for room on a full worker too: a call that times out there has
        // started nothing.
        let future = submit(operation, fileID: fileID, line: line, roomDeadline: deadline)
        // Off the critical path: the worker is starting the operation meanwhile.
        diagnostics.reportIfReporting("TaskDispatcher.execute")
        guard let result = try future.wait(until: deadline, diagnostics: nil) else {
            future.cancel()
            threadWorker?.counters.recordTimeout()
            throw AsyncWorkerError.timedOut
        }
        return try result.get()
    }

    /// Runs `operation` and blocks until it finishes or `timeout` passes (the ``Dispatcher``
    /// requirement; called directly, the overload that records the submission site is chosen).
    @inlinable @_disfavoredOverload
    public func execute<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        timeout: Duration?
    ) throws -> T {
        try execute(operation, timeout: timeout, fileID: "", line: 0)  // the caller's site is unknown: report none
    }

    /// Runs `operation` and blocks until it finishes or `timeout` seconds pass (for callers that keep
    /// timeouts as `TimeInterval`). NaN or negative values time out at once; infinite or huge ones mean
    /// no timeout. See ``execute(_:timeout:fileID:line:)``.
    @inlinable
    public func execute<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        timeout seconds: TimeInterval,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> T {
        try execute(operation, timeout: Deadline.duration(fromSeconds: seconds), fileID: fileID, line: line)
    }

    /// Starts `operation` on the worker and returns its future at once.
    ///
    /// The future is already failed with ``AsyncWorkerError/shutDown`` if the worker is shut down.
    /// `fileID` and `line` record where the task was submitted, for stall reports.
    @inlinable
    public func executeAsync<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) -> TaskFuture<T> {
        submit(operation, fileID: fileID, line: line)
    }

    /// Starts `operation` on the worker and returns its future at once (the ``Dispatcher`` requirement;
    /// called directly, the overload that records the submission site is chosen).
    @inlinable @_disfavoredOverload
    public func executeAsync<T: Sendable>(_ operation: sending @escaping () async throws -> T) -> TaskFuture<T> {
        submit(operation, fileID: "", line: 0)  // the caller's site is unknown here: report none
    }
}
