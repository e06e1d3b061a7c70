import Synchronization

/// How a blocking call waits when it is made on the main thread.
public enum MainThreadWaitingPolicy: Sendable, Equatable {
    /// Keep the main run loop serviced while waiting (in slices of at most 10 ms, woken at once when the
    /// work completes), so an operation that hops to `@MainActor` — or anything else scheduled on the main
    /// queue — runs instead of deadlocking. The default.
    ///
    /// Every wait follows it: a blocking call's wait for its result, and the waits for room on a full
    /// worker, for a pipeline slot, for a run or a batch, for an iterator's next element and for a
    /// shutdown to drain.
    ///
    /// - Important: This is re-entrancy: main-queue work (main-actor jobs, timers, `DispatchQueue.main`
    ///   blocks) may run *inside* your blocking call, before it returns. Code on the main thread that
    ///   relies on nothing else running there until the call returns should choose ``block``.
    ///   Inside a main-queue block or a main-actor job the run loop cannot be re-entered (CoreFoundation
    ///   refuses): a wait made there blocks the thread plainly, as under ``block``.
    case serviceRunLoop
    /// Block the main thread like any other: no re-entrancy, but an operation that needs the main actor
    /// cannot finish (with a timeout the caller gets ``AsyncWorkerError/timedOut``).
    case block
}

/// The process-wide setting for blocking calls made on the main thread. See ``MainThreadWaitingPolicy``.
///
/// ```swift
/// MainThreadWaiting.policy = .block   // opt out of run-loop servicing
/// ```
public enum MainThreadWaiting {
    /// The policy; any thread may read or change it at any time.
    public static var policy: MainThreadWaitingPolicy {
        get { MainRunLoop.isServicingEnabled.load(ordering: .relaxed) ? .serviceRunLoop : .block }
        set { MainRunLoop.isServicingEnabled.store(newValue == .serviceRunLoop, ordering: .relaxed) }
    }
}
