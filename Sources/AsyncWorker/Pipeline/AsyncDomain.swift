/// One step of a ``Pipeline``: an async function from `Input` to `Output`, such as parsing, enriching or
/// exporting a message.
///
/// A pipeline runs each message through its domains in order, as one task on its worker's thread. Many
/// messages are in flight at once, so one domain value serves many messages concurrently: keep it
/// `Sendable` (a struct of `let`s, or an actor for shared mutable state).
///
/// ```swift
/// struct Parse: AsyncDomain {
///     func execute(_ line: String) async throws -> Event { try Event(json: line) }
/// }
/// let pipeline = Pipeline(Parse()).then(Enrich()).then(Export())
/// ```
///
/// An error thrown by ``execute(_:)`` fails that one message: the pipeline records it and passes it,
/// unchanged, to the message's caller and to the ``Pipeline/onFailure(_:)`` subscribers. Other messages
/// are not affected.
public protocol AsyncDomain<Input, Output>: Sendable {
    /// The value the domain consumes.
    associatedtype Input: Sendable
    /// The value the domain produces, which the next domain consumes.
    associatedtype Output: Sendable

    /// The name under which ``PipelineMonitor`` reports this domain. Defaults to the type's name.
    var name: String { get }

    /// How a failed attempt is retried. Defaults to ``RetryPolicy/none`` (one attempt).
    var retryPolicy: RetryPolicy { get }

    /// How long one attempt may run before it is cancelled and fails with ``DomainTimedOut``;
    /// `nil` (the default) means no limit, and so does a huge value (about 31 years or more; no trap).
    /// The timeout works through cancellation: an attempt that ignores cancellation holds the message until
    /// it returns.
    var timeout: Duration? { get }

    /// Processes one message.
    ///
    /// Runs on the pipeline's worker thread, as part of the message's task: it may await anything, and
    /// other messages progress while it is suspended. It should honour task cancellation, which is how a
    /// timed-out ``Pipeline/send(_:timeout:fileID:line:)-(_,Duration?,_,_)`` or a
    /// ``Pipeline/shutdown(timeout:)-(Duration?)`` stops the message.
    ///
    /// - Parameter input: The message, as the previous domain produced it.
    /// - Returns: The message for the next domain (or the pipeline's output, for the last domain).
    /// - Throws: Any error; it fails this message only.
    func execute(_ input: Input) async throws -> Output
}

extension AsyncDomain {
    /// The domain's type name, e.g. `"Parse"`.
    public var name: String { String(describing: Self.self) }

    /// No retry.
    public var retryPolicy: RetryPolicy { .none }

    /// No timeout.
    public var timeout: Duration? { nil }
}
