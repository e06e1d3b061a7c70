/// Creates a ``ThreadWorker``, passes it to `body`, and always shuts it down when `body` returns or
/// throws: a worker whose lifetime is a scope.
///
/// ```swift
/// let rows = try withWorker(name: "import") { worker in
///     let dispatcher = TaskDispatcher(worker: worker)
///     return try dispatcher.execute({ try await db.importAll() }, timeout: .seconds(60))
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
    let worker = ThreadWorker(name: name)
    defer { worker.shutdown(timeout: shutdownTimeout) }
    return try body(worker)
}
