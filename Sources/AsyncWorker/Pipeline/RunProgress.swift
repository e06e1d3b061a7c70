/// Where a ``Pipeline/run(_:progressInterval:fileID:line:progress:)`` stands, as its progress callback sees it.
public struct RunProgress: Sendable, Equatable {
    /// Messages taken from the sequence and accepted by the pipeline so far.
    public var submitted: Int
    /// Messages of this run that produced an output.
    public var succeeded: Int
    /// Messages of this run that failed.
    public var failed: Int
    /// Time since the run started.
    public var elapsed: Duration

    /// Messages of this run that are done, successfully or not.
    public var finished: Int { succeeded + failed }
    /// Messages of this run still in the pipeline.
    public var inFlight: Int { submitted - finished }
}
