import Foundation

/// The process-wide dispatcher behind the global functions. Swift initialises a global `let` exactly
/// once, race-free, on first use; the worker's thread starts on the first submission.
@usableFromInline let sharedDispatcher = TaskDispatcher(worker: sharedWorker)
/// The worker behind ``sharedDispatcher``.
let sharedWorker = ThreadWorker(name: "AsyncWorker")

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
///   - fileID: Where the call is made, for stall reports (``SharedWorker/onStall(threshold:perform:)``);
///     leave the default, or forward your own caller's.
///   - line: The line of the call, likewise.
/// - Throws: ``AsyncWorkerError/timedOut`` if the deadline passes first (the task is cancelled),
///   ``AsyncWorkerError/wouldDeadlock`` on the worker's own thread, or the error `operation` threw.
@inlinable
public func runAsyncTask<T: Sendable>(
    _ operation: sending @escaping () async throws -> T,
    timeout: Duration? = nil,
    fileID: StaticString = #fileID,
    line: UInt = #line
) throws -> T {
    try sharedDispatcher.execute(operation, timeout: timeout, fileID: fileID, line: line)
}

/// Runs `operation` on the shared worker and blocks until it finishes or `timeout` seconds pass.
///
/// For code that keeps timeouts as `TimeInterval`. NaN or negative values time out at once; infinite or
/// huge ones mean no timeout. Otherwise the same as ``runAsyncTask(_:timeout:)-(_,Duration?)``.
@inlinable
public func runAsyncTask<T: Sendable>(
    _ operation: sending @escaping () async throws -> T,
    timeout seconds: TimeInterval,
    fileID: StaticString = #fileID,
    line: UInt = #line
) throws -> T {
    try sharedDispatcher.execute(operation, timeout: seconds, fileID: fileID, line: line)
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
    fireAndForget operation: sending @escaping () async throws -> T,
    fileID: StaticString = #fileID,
    line: UInt = #line
) -> TaskFuture<T> {
    sharedDispatcher.executeAsync(operation, fileID: fileID, line: line)
}

/// The process-wide worker behind the global `runAsyncTask` functions (and the default worker of
/// ``Pipeline``, ``runAsyncBatch(_:maxConcurrency:timeout:_:)`` and the blocking iterators): its metrics
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
    public static var name: String { sharedWorker.name }

    /// A snapshot of the shared worker's counters. See ``ThreadWorker/metrics()``.
    public static func metrics() -> WorkerMetrics {
        sharedWorker.metrics()
    }

    /// Turns stall detection on the shared worker on (or off, with `nil`). See
    /// ``ThreadWorker/onStall(threshold:perform:)``.
    public static func onStall(
        threshold: Duration = .milliseconds(100),
        perform handler: (@Sendable (StallReport) -> Void)?
    ) {
        sharedWorker.onStall(threshold: threshold, perform: handler)
    }
}
