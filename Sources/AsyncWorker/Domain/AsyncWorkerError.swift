/// The errors AsyncWorker itself throws.
///
/// An error thrown by *your* operation is never wrapped or replaced: it reaches the caller unchanged,
/// with its own dynamic type. Only the bridge's own failures are reported with these cases.
///
/// ```swift
/// do {
///     let user = try runAsyncTask({ try await api.user(id: 42) }, timeout: .seconds(5))
/// } catch AsyncWorkerError.timedOut {
///     // the task was cancelled; retry or give up
/// }
/// ```
public enum AsyncWorkerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The deadline passed before the work finished.
    ///
    /// What happened to the work depends on the call that threw it: a blocking call (`runAsyncTask`,
    /// `execute`, `runAsyncBatch`, ``Pipeline/send(_:timeout:fileID:line:)-(_,Duration?,_,_)``) cancelled its
    /// task, or started nothing if it was still waiting for room on a full worker or for a pipeline slot;
    /// ``TaskFuture/result(timeout:fileID:line:)-(Duration?,_,_)`` and ``BlockingIterator/next(timeout:fileID:line:)-(Duration?,_,_)``
    /// cancel nothing: the work goes on and a later call may still get it. A zero or negative timeout gives
    /// this error at once, without starting the work.
    case timedOut

    /// The worker is shut down: the work was rejected, or it was still pending when the worker stopped.
    case shutDown

    /// A blocking call was made on the worker's own thread, where waiting could never end, because the
    /// thread that would finish the work is the one waiting.
    ///
    /// Thrown at once, with or without a timeout. Await the work instead (``TaskFuture/value``), or
    /// block on a different worker.
    case wouldDeadlock

    /// A blocking call was made from inside a Swift task while the policy is
    /// ``BlockingInTaskPolicy/fail`` (see ``BlockingCallDiagnostics``). Await the work instead.
    case blockingInAsyncContext

    /// The worker's thread could not be created; `errno` is the code `pthread_create` returned
    /// (typically `EAGAIN`: the process or system ran out of threads).
    case threadStartFailed(errno: Int32)

    public var description: String {
        switch self {
        case .timedOut:
            return "AsyncWorkerError.timedOut: the deadline passed before the awaited work finished. "
                + "runAsyncTask, execute, runAsyncBatch and Pipeline.send cancel their task (or started "
                + "nothing, if the worker or pipeline was full until the deadline); "
                + "TaskFuture.result(timeout:) and BlockingIterator.next(timeout:) cancel nothing: the work "
                + "goes on and a later call can still get it. Use a longer timeout, or make the operation "
                + "honour cancellation sooner."
        case .shutDown:
            return "AsyncWorkerError.shutDown: the worker is shut down, so the work was rejected or "
                + "abandoned when the worker stopped. Submit to a running worker; a worker is never restarted."
        case .wouldDeadlock:
            return "AsyncWorkerError.wouldDeadlock: a blocking call was made on the worker's own thread, "
                + "which could never finish the work it waits for. Await the work (e.g. `future.value`) "
                + "instead, or block on a different worker."
        case .blockingInAsyncContext:
            return "AsyncWorkerError.blockingInAsyncContext: a blocking call was made from inside a Swift task, "
                + "which the diagnostics policy forbids (it would hold a thread async code needs). "
                + "Await the work instead (e.g. `try await future.value`)."
        case .threadStartFailed(let errno):
            return "AsyncWorkerError.threadStartFailed(errno: \(errno)): the worker's thread could not "
                + "be created. The process may have hit its thread limit; shut down unused workers."
        }
    }
}
