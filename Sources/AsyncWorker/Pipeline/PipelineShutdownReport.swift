/// What ``Pipeline/shutdown(timeout:)-(Duration?)`` did: how many in-flight messages finished during the drain and
/// how many were abandoned.
///
/// When shutdown returns, every message the pipeline accepted is resolved, whatever the report says.
public struct PipelineShutdownReport: Sendable, Equatable, CustomStringConvertible {
    /// Messages in flight when shutdown began that finished (successfully or not) before the deadline.
    public var drainedMessages: Int
    /// Messages still unfinished at the deadline: each was cancelled, its future resolved with
    /// ``AsyncWorkerError/shutDown``, and the ``Pipeline/onFailure(_:)`` subscribers told.
    public var abandonedMessages: Int
    /// `true` if this call found the pipeline already shut down (the report is the first call's).
    public var wasAlreadyShutDown: Bool

    /// Nothing was abandoned.
    public var isClean: Bool { abandonedMessages == 0 }

    /// One line: drained and abandoned counts.
    public var description: String {
        var text = "PipelineShutdownReport(drained: \(drainedMessages), abandoned: \(abandonedMessages)"
        if wasAlreadyShutDown { text += ", already shut down" }
        return text + ")"
    }
}

extension PipelineShutdownReport: ShutdownOnceReport {
    /// What a call gets while another one is still shutting the same pipeline down.
    static var stillInProgress: PipelineShutdownReport {
        PipelineShutdownReport(drainedMessages: 0, abandonedMessages: 0, wasAlreadyShutDown: true)
    }
}
