import Foundation

/// The process-wide dispatcher behind the global functions. Swift initialises a global `let` exactly
/// once, race-free, on first use; the worker's thread starts on the first submission.
@usableFromInline let sharedDispatcher = TaskDispatcher(worker: sharedThreadWorker)
/// The worker behind ``sharedDispatcher``; its public face is ``SharedWorker``.
@usableFromInline let sharedThreadWorker = ThreadWorker(name: "AsyncWorker")

/// Runs `operation` on the shared worker thread and blocks the caller until it finishes.
///
/// If `timeout` elapses first, the task is cancelled and the call returns at the deadline,
/// without waiting for the task to stop.
///
/// ```swift
/// let user = try runAsyncTask({ try await api.user(id: 42) }, timeout: .seconds(5))
/// let n = try runAsyncTask { await counter.next() }   // no timeout
/// ```
///
/// The shared worker is one dedicated thread, started on first use, that runs the operation, the
/// non-isolated async code it calls and its child tasks. Task-local values bound by the caller are
/// visible in the operation.
///
/// The operation is `sending`: it may outlive the call (a timed-out task is cancelled, not awaited), so
/// the caller hands over what it captures. The value it returns is handed to this caller alone, so it
/// need not be `Sendable`. See "Swift 6 strict concurrency" in the README for writing such closures
/// around legacy classes.
///
/// - Important: Don't call this from async code: it blocks a thread of the cooperative pool (or the
///   actor you are on). Await the work directly instead. A call made on the main thread while the
///   operation needs `@MainActor` cannot finish before its timeout.
///
/// - Parameters:
///   - operation: The async work to run. Its errors reach the caller unchanged.
///   - timeout: How long to wait; `nil` waits as long as it takes. Zero or less throws
///     ``AsyncWorkerError/timedOut`` without starting the operation; a huge value means no timeout.
///   - fileID: Where the call is made, for stall reports (``SharedWorker/onStall(threshold:perform:)``)
///     and the blocking-in-task report; leave the default, or forward your own caller's.
///   - line: The line of the call, likewise.
/// - Returns: The value `operation` returned.
/// - Throws: ``AsyncWorkerError/timedOut`` if the deadline passes first (the task is cancelled),
///   ``AsyncWorkerError/wouldDeadlock`` on the worker's own thread, or the error `operation` threw.
@inlinable
public func runAsyncTask<T>(
    _ operation: sending @escaping () async throws -> T,
    timeout: Duration? = nil,
    fileID: StaticString = #fileID,
    line: UInt = #line
) throws -> sending T {
    try sharedDispatcher.execute(
        on: sharedThreadWorker,
        operation,
        timeout: timeout,
        Submission(fileID: fileID, line: line, api: "runAsyncTask(_:timeout:)")
    )
}

/// Runs `operation` on the shared worker and blocks until it finishes or `timeout` passes, timeout
/// first, closure last:
///
/// ```swift
/// let user = try runAsyncTask(timeout: .seconds(2)) {
///     try await api.user(id: 42)
/// }
/// ```
///
/// The same call as ``runAsyncTask(_:timeout:fileID:line:)-(_,Duration?,_,_)``. The timeout is required
/// here, so `runAsyncTask { … }` keeps meaning the call without one.
@inlinable
public func runAsyncTask<T>(
    timeout: Duration?,
    fileID: StaticString = #fileID,
    line: UInt = #line,
    _ operation: sending @escaping () async throws -> T
) throws -> sending T {
    try sharedDispatcher.execute(
        on: sharedThreadWorker,
        operation,
        timeout: timeout,
        Submission(fileID: fileID, line: line, api: "runAsyncTask(timeout:_:)")
    )
}

/// Runs `operation` on the shared worker and blocks until it finishes or `timeout` seconds pass.
///
/// For code that keeps timeouts as `TimeInterval`. NaN or negative values time out at once; infinite or
/// huge ones mean no timeout. Otherwise the same as ``runAsyncTask(_:timeout:fileID:line:)-(_,Duration?,_,_)``.
@inlinable
public func runAsyncTask<T>(
    _ operation: sending @escaping () async throws -> T,
    timeout seconds: TimeInterval,
    fileID: StaticString = #fileID,
    line: UInt = #line
) throws -> sending T {
    try sharedDispatcher.execute(
        on: sharedThreadWorker,
        operation,
        timeout: Deadline.duration(fromSeconds: seconds),
        Submission(fileID: fileID, line: line, api: "runAsyncTask(_:timeout:)")
    )
}

/// The timeout-first form with the timeout in seconds: `try runAsyncTask(timeout: 2.5) { … }`.
/// NaN or negative values time out at once; infinite or huge ones mean no timeout.
@inlinable
public func runAsyncTask<T>(
    timeout seconds: TimeInterval,
    fileID: StaticString = #fileID,
    line: UInt = #line,
    _ operation: sending @escaping () async throws -> T
) throws -> sending T {
    try sharedDispatcher.execute(
        on: sharedThreadWorker,
        operation,
        timeout: Deadline.duration(fromSeconds: seconds),
        Submission(fileID: fileID, line: line, api: "runAsyncTask(timeout:_:)")
    )
}

/// Starts `operation` on the shared worker and returns its ``TaskFuture`` at once.
///
/// ```swift
/// let future = runAsyncTask(fireAndForget: { try await downloadReport() })
/// // ... other synchronous work ...
/// let report = try future.result(timeout: .seconds(10))
/// ```
///
/// Collect the outcome later with ``TaskFuture/result(timeout:fileID:line:)-(Duration?,_,_)`` from any
/// thread, with ``TaskFuture/value`` from async code, or with ``TaskFuture/onComplete(_:)``. A future may be
/// read by many threads, so its value must be `Sendable`.
@_disfavoredOverload
@inlinable
public func runAsyncTask<T: Sendable>(
    fireAndForget operation: sending @escaping () async throws -> T,
    fileID: StaticString = #fileID,
    line: UInt = #line
) -> TaskFuture<T> {
    sharedDispatcher.executeAsync(
        on: sharedThreadWorker,
        operation,
        Submission(fileID: fileID, line: line, api: "runAsyncTask(fireAndForget:)")
    )
}

/// The process-wide worker behind the global `runAsyncTask` functions (and the default worker of
/// ``Pipeline``, ``runAsyncBatch(_:maxConcurrency:timeout:fileID:line:_:)-(_,_,Duration?,_,_,_)`` and the blocking iterators): its metrics
/// and stall detection.
///
/// ```swift
/// SharedWorker.onStall(threshold: .milliseconds(250)) { report in log.warning("\(report)") }
/// print(SharedWorker.metrics())
/// ```
///
/// The shared worker itself is not handed out: it lives as long as the process, and nothing may shut it
/// down under the code that relies on it.
public enum SharedWorker {
    /// The name of the shared worker's thread.
    public static var name: String { sharedThreadWorker.name }

    /// A snapshot of the shared worker's counters. See ``ThreadWorker/metrics()``.
    public static func metrics() -> WorkerMetrics {
        sharedThreadWorker.metrics()
    }

    /// Turns stall detection on the shared worker on (or off, with `nil`). See
    /// ``ThreadWorker/onStall(threshold:perform:)``.
    public static func onStall(
        threshold: Duration = .milliseconds(100),
        perform handler: (@Sendable (StallReport) -> Void)?
    ) {
        sharedThreadWorker.onStall(threshold: threshold, perform: handler)
    }
}
