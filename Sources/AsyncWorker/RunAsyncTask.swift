import Foundation

/// The process-wide dispatcher behind the global functions. Swift initialises a global `let` exactly
/// once, race-free, on first use; the worker's thread starts on the first submission.
@usableFromInline let sharedDispatcher = TaskDispatcher(worker: ThreadWorker(name: "AsyncWorker"))

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
/// - Important: Don't call this from async code: it blocks a thread of the cooperative pool (or the
///   actor you are on). Await the work directly instead. A call made on the main thread while the
///   operation needs `@MainActor` cannot finish before its timeout.
///
/// - Parameters:
///   - operation: The async work to run. Its errors reach the caller unchanged.
///   - timeout: How long to wait; `nil` waits as long as it takes. Zero or less throws
///     ``AsyncWorkerError/timedOut`` without starting the operation; a huge value means no timeout.
/// - Returns: The value `operation` returned.
/// - Throws: ``AsyncWorkerError/timedOut`` if the deadline passes first (the task is cancelled),
///   ``AsyncWorkerError/wouldDeadlock`` on the worker's own thread, or the error `operation` threw.
@inlinable
public func runAsyncTask<T: Sendable>(
    _ operation: sending @escaping () async throws -> T,
    timeout: Duration? = nil
) throws -> T {
    try sharedDispatcher.execute(operation, timeout: timeout)
}

/// Runs `operation` on the shared worker and blocks until it finishes or `timeout` seconds pass.
///
/// For code that keeps timeouts as `TimeInterval`. NaN or negative values time out at once; infinite or
/// huge ones mean no timeout. Otherwise the same as ``runAsyncTask(_:timeout:)-(_,Duration?)``.
@inlinable
public func runAsyncTask<T: Sendable>(
    _ operation: sending @escaping () async throws -> T,
    timeout seconds: TimeInterval
) throws -> T {
    try sharedDispatcher.execute(operation, timeout: seconds)
}

/// Starts `operation` on the shared worker and returns its ``TaskFuture`` at once.
///
/// ```swift
/// let future = runAsyncTask(fireAndForget: { try await downloadReport() })
/// // ... other synchronous work ...
/// let report = try future.result(timeout: .seconds(10))
/// ```
///
/// Collect the outcome later with ``TaskFuture/result(timeout:)-(Duration?)`` from any thread, with
/// ``TaskFuture/value`` from async code, or with ``TaskFuture/onComplete(_:)``.
@_disfavoredOverload
@inlinable
public func runAsyncTask<T: Sendable>(
    fireAndForget operation: sending @escaping () async throws -> T
) -> TaskFuture<T> {
    sharedDispatcher.executeAsync(operation)
}
