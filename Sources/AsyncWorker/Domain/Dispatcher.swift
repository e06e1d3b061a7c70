/// The port synchronous callers use to run async work: blocking calls with timeouts, and
/// fire-and-forget calls that return a ``TaskFuture``.
///
/// ``TaskDispatcher`` is the implementation.
public protocol Dispatcher: Sendable {
    /// Runs `operation` and blocks the calling thread until it finishes or `timeout` passes.
    ///
    /// - Throws: ``AsyncWorkerError/timedOut`` (the task is cancelled), ``AsyncWorkerError/wouldDeadlock``,
    ///   ``AsyncWorkerError/shutDown``, or the operation's own error, unchanged.
    func execute<T: Sendable>(_ operation: sending @escaping () async throws -> T, timeout: Duration?) throws -> T

    /// Starts `operation` and returns its future at once.
    func executeAsync<T: Sendable>(_ operation: sending @escaping () async throws -> T) -> TaskFuture<T>

    /// ``execute(_:timeout:)`` that records where the task was submitted, for stall reports. The default
    /// implementation ignores the site.
    func execute<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        timeout: Duration?,
        fileID: StaticString,
        line: UInt
    ) throws -> T
}

extension Dispatcher {
    /// Runs `operation` and blocks until it finishes, with no timeout.
    ///
    /// Forwards the caller's `#fileID`/`#line` to ``execute(_:timeout:fileID:line:)``, so that a call made
    /// through `any Dispatcher` or `some Dispatcher` is named in stall reports too.
    public func execute<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> T {
        try execute(operation, timeout: nil, fileID: fileID, line: line)
    }

    /// Ignores the site and calls ``execute(_:timeout:)``.
    public func execute<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        timeout: Duration?,
        fileID: StaticString,
        line: UInt
    ) throws -> T {
        try execute(operation, timeout: timeout)
    }
}
