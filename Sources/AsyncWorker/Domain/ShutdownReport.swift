/// What a worker's ``Worker/shutdown(timeout:)`` did: how much work finished in time, how much was cut
/// short, and whether the worker's thread has really exited.
///
/// Every future the worker handed out is resolved when shutdown returns, whatever the report says.
/// ``isClean`` tells whether everything ended without force.
public struct ShutdownReport: Sendable, Equatable, CustomStringConvertible {
    /// Tasks that were pending when shutdown began and finished during the drain period.
    public var drainedTasks: Int
    /// Tasks still unfinished at the drain deadline: each was cancelled and its future resolved with
    /// ``AsyncWorkerError/shutDown``.
    public var abandonedTasks: Int
    /// `true` when the worker's thread exited and was joined before shutdown returned.
    /// `false` when a job held the thread past the deadline (an operation that blocks or ignores
    /// cancellation), or when shutdown was called from the worker's own thread, which cannot join
    /// itself; the thread then exits as soon as the job running on it returns.
    public var threadExited: Bool
    /// `true` if this call found the worker already shut down (the report is the first call's).
    public var wasAlreadyShutDown: Bool

    public init(drainedTasks: Int, abandonedTasks: Int, threadExited: Bool, wasAlreadyShutDown: Bool = false) {
        self.drainedTasks = drainedTasks
        self.abandonedTasks = abandonedTasks
        self.threadExited = threadExited
        self.wasAlreadyShutDown = wasAlreadyShutDown
    }

    /// Nothing was abandoned and the thread exited.
    public var isClean: Bool { abandonedTasks == 0 && threadExited }

    public var description: String {
        var text = "ShutdownReport(drained: \(drainedTasks), abandoned: \(abandonedTasks), "
        text += threadExited ? "thread exited" : "thread still busy: a job holds it past the deadline"
        if wasAlreadyShutDown { text += ", already shut down" }
        return text + ")"
    }
}

extension ShutdownReport: ShutdownOnceReport {
    /// What a call gets while another one is still shutting the same worker or pool down.
    static var stillInProgress: ShutdownReport {
        ShutdownReport(drainedTasks: 0, abandonedTasks: 0, threadExited: false, wasAlreadyShutDown: true)
    }
}
