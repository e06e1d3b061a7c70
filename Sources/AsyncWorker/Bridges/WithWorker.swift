import Foundation

/// Creates a ``ThreadWorker``, passes it to `body`, and always shuts it down when `body` returns or
/// throws: a worker whose lifetime is a scope.
///
/// ```swift
/// let rows = try withWorker(name: "import") { worker in
///     try TaskDispatcher(worker: worker).execute(timeout: .seconds(60)) { try await db.importAll() }
/// }   // the worker's thread has exited here
/// ```
///
/// `body` runs on the calling thread. When it ends — by returning or by throwing — the worker is shut
/// down with `shutdownTimeout` (see ``ThreadWorker/shutdown(timeout:)``): work still pending may finish
/// until the timeout, then is cancelled and its futures fail with ``AsyncWorkerError/shutDown``; the
/// thread is joined. So every future the worker handed out is resolved when `withWorker` returns. The
/// worker must not escape `body`: after the scope it only rejects work.
///
/// There is no async variant: shutdown blocks its thread. From async code, create the worker and end it
/// with `await runSyncTask { worker.shutdown(timeout: …) }`.
///
/// - Parameters:
///   - name: The worker's thread name (Linux keeps its first 15 bytes, Darwin 63).
///   - shutdownTimeout: How long pending work may run on after `body` ends; `nil` (the default) waits as
///     long as it takes, like a task group awaiting its children.
///   - body: The code that uses the worker, run on the calling thread.
/// - Returns: What `body` returned.
/// - Throws: What `body` threw (after the shutdown).
public func withWorker<Result>(
    name: String,
    shutdownTimeout: Duration? = nil,
    _ body: (ThreadWorker) throws -> Result
) rethrows -> Result {
    try withWorker(ThreadWorker(name: name), shutdownTimeout: shutdownTimeout, body)
}

/// Passes `worker` to `body` and always shuts it down when `body` returns or throws: the scope of any
/// ``Worker`` — a ``ThreadWorker`` you configured, a ``ManualWorker`` in a test, your own.
///
/// ```swift
/// let worker = ThreadWorker(name: "import", maxPendingTasks: 256)
/// let rows = try withWorker(worker, shutdownTimeout: .seconds(5)) { worker in
///     try TaskDispatcher(worker: worker).execute(timeout: .seconds(60)) { try await db.importAll() }
/// }
/// ```
///
/// The same as ``withWorker(name:shutdownTimeout:_:)-(_,Duration?,_)`` otherwise.
public func withWorker<W: Worker, Result>(
    _ worker: W,
    shutdownTimeout: Duration? = nil,
    _ body: (W) throws -> Result
) rethrows -> Result {
    defer { worker.shutdown(timeout: shutdownTimeout) }
    return try body(worker)
}

/// ``withWorker(name:shutdownTimeout:_:)-(_,Duration?,_)`` with the shutdown timeout in seconds, for code
/// that keeps `TimeInterval`s.
public func withWorker<Result>(
    name: String,
    shutdownTimeout seconds: TimeInterval,
    _ body: (ThreadWorker) throws -> Result
) rethrows -> Result {
    try withWorker(ThreadWorker(name: name), shutdownTimeout: Deadline.duration(fromSeconds: seconds), body)
}
