/// A message that failed, as ``Pipeline/onFailure(_:)`` subscribers see it.
public struct PipelineFailure<Input: Sendable>: Sendable {
    /// The message as it entered the pipeline.
    public var input: Input
    /// The error the message failed with, unchanged: a domain's own error, `CancellationError` (a
    /// timed-out ``Pipeline/send(_:timeout:fileID:line:)-(_,Duration?,_,_)``, a cancelled future), or
    /// ``AsyncWorkerError/shutDown`` (abandoned at shutdown, or its worker is shut down).
    public var error: any Error
    /// The name of the domain that threw, or `nil` if the message failed between or outside domains
    /// (cancelled, abandoned at shutdown).
    public var domain: String?
    /// The position (0-based) of the domain that threw, or `nil` like ``domain``.
    public var domainIndex: Int?

    @usableFromInline
    init(input: Input, error: any Error, domain: String?, domainIndex: Int?) {
        self.input = input
        self.error = error
        self.domain = domain
        self.domainIndex = domainIndex
    }
}
