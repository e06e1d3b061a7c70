/// Runs blocking, synchronous `work` on the shared ``BlockingThreadPool`` and suspends the calling task
/// until it returns: the reverse of ``runAsyncTask(_:timeout:fileID:line:)-(_,Duration?,_,_)``.
///
/// Use it from async code for work that blocks its thread — legacy file or socket I/O, a C library, a
/// `DispatchSemaphore` — so it does not hold one of the few threads of Swift's cooperative pool.
///
/// ```swift
/// let config = try await runSyncTask { try String(contentsOfFile: path, encoding: .utf8) }
/// ```
///
/// The work runs on one of at most ``BlockingThreadPool/defaultSize`` threads (`AW-blocking-<n>`),
/// started on demand; when all are busy it waits its turn (FIFO).
///
/// - Cancellation: cancelling the awaiting task while the work is still queued removes it: the work never
///   runs and this throws `CancellationError`. Work that has started runs to the end and its value (or
///   error) is returned — synchronous code cannot be interrupted.
///
/// - Parameter work: The blocking work. Its errors reach the caller unchanged.
/// - Returns: The value `work` returned.
/// - Throws: The error `work` threw; `CancellationError` if the task was cancelled before the work
///   started; ``AsyncWorkerError/shutDown`` if ``BlockingThreadPool/shared`` was shut down; or
///   ``AsyncWorkerError/threadStartFailed(errno:)`` if the pool has no thread and cannot start one.
public func runSyncTask<T: Sendable>(_ work: sending @escaping () throws -> T) async throws -> T {
    try await BlockingThreadPool.shared.run(work)
}
