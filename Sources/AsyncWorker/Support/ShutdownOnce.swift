/// Runs a component's shutdown at most once, and answers every other call without deadlock.
///
/// The first call performs the shutdown on its own thread and records the report. A later call gets that
/// report. A call that arrives while the first is still running waits for it, until its own deadline at
/// most, unless waiting could never end:
/// - it comes from the thread performing the shutdown (a completion handler or subscriber the shutdown
///   called, re-entering), or
/// - the caller says it may not wait (the component's own thread, which the first call may need).
/// Those calls, and a wait whose deadline passes, get ``Outcome/stillInProgress`` at once.
///
/// Shared by every component with a shutdown: ``ThreadWorker``, ``Pipeline``, ``BlockingThreadPool``.
final class ShutdownOnce<Report: ShutdownOnceReport>: @unchecked Sendable {
    // @unchecked: `state` is read and written only while `lock` is held.
    private let lock = ConditionLock()
    private var state = State.notBegun  // protected by `lock`

    private enum State {
        case notBegun
        case inProgress(thread: UInt)
        case finished(Report)
    }

    enum Outcome {
        /// This call performed the shutdown.
        case performed(Report)
        /// An earlier call performed it (this one may have waited for it to finish).
        case alreadyDone(Report)
        /// Another call is performing it, and this one could not wait for it or its deadline passed.
        case stillInProgress
    }

    /// Performs the shutdown or answers for it, as ``run(waitingUntil:mayWait:_:)``, and returns the report
    /// this call gives its caller: its own, the first call's marked as a repeat, or
    /// ``ShutdownOnceReport/stillInProgress``.
    func report(waitingUntil deadline: Deadline, mayWait: Bool, _ perform: () -> Report) -> Report {
        switch run(waitingUntil: deadline, mayWait: mayWait, perform) {
        case .performed(let report):
            return report
        case .alreadyDone(var report):
            report.wasAlreadyShutDown = true
            return report
        case .stillInProgress:
            return .stillInProgress
        }
    }

    /// Whether a shutdown has begun (it may still be in progress).
    var hasBegun: Bool {
        lock.withLock {
            if case .notBegun = state { return false }
            return true
        }
    }

    /// Performs the shutdown with `perform` if no call has begun one; otherwise returns the first call's
    /// report, waiting for it until `deadline` (following the main-thread waiting policy) when `mayWait`
    /// and this thread is not the one performing it.
    func run(waitingUntil deadline: Deadline, mayWait: Bool, _ perform: () -> Report) -> Outcome {
        let me = OSThread.currentID
        lock.lock()
        switch state {
        case .notBegun:
            state = .inProgress(thread: me)
            lock.unlock()
            let report = perform()
            lock.withLock { state = .finished(report) }
            lock.broadcast()
            return .performed(report)
        case .finished(let report):
            lock.unlock()
            return .alreadyDone(report)
        case .inProgress(let thread):
            guard mayWait, thread != me else {
                lock.unlock()
                return .stillInProgress
            }
            while true {
                if case .finished(let report) = state {
                    lock.unlock()
                    return .alreadyDone(report)
                }
                if !lock.wait(until: deadline), deadline.hasPassed {
                    let outcome: Outcome
                    if case .finished(let report) = state {
                        outcome = .alreadyDone(report)
                    } else {
                        outcome = .stillInProgress
                    }
                    lock.unlock()
                    return outcome
                }
            }
        }
    }
}

/// A shutdown's report, as ``ShutdownOnce`` hands it to later callers.
protocol ShutdownOnceReport: Sendable {
    /// Set on the report a repeated call gets.
    var wasAlreadyShutDown: Bool { get set }
    /// What a call gets while another one is still performing the shutdown.
    static var stillInProgress: Self { get }
}
