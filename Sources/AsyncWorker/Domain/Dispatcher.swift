import Foundation

/// The port synchronous callers use to run async work: blocking calls with timeouts, and
/// fire-and-forget calls that return a ``TaskFuture``.
///
/// ``TaskDispatcher`` is the implementation. A conformer implements the two requirements, which carry
/// a ``Submission`` (the call site); every spelling a caller uses — closure first or timeout first,
/// `Duration` or `TimeInterval` — comes from this protocol's extension and ends in them.
///
/// ```swift
/// let n = try dispatcher.execute(timeout: .seconds(2)) { await counter.next() }
/// let same = try dispatcher.execute({ await counter.next() }, timeout: .seconds(2))
/// let later = dispatcher.executeAsync { try await cache.refresh() }
/// ```
public protocol Dispatcher: Sendable {
    /// Runs `operation` and blocks the calling thread until it finishes or `timeout` passes.
    ///
    /// The value is handed to this one caller (`sending`), so it need not be `Sendable`.
    ///
    /// - Throws: ``AsyncWorkerError/timedOut`` (the task is cancelled), ``AsyncWorkerError/wouldDeadlock``,
    ///   ``AsyncWorkerError/shutDown``, or the operation's own error, unchanged.
    func execute<T>(
        _ operation: sending @escaping () async throws -> T,
        timeout: Duration?,
        _ submission: Submission
    ) throws -> sending T

    /// Starts `operation` and returns its future at once.
    func executeAsync<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        _ submission: Submission
    ) -> TaskFuture<T>
}

extension Dispatcher {
    /// Runs `operation` and blocks the calling thread until it finishes or `timeout` passes.
    ///
    /// ```swift
    /// let rows = try dispatcher.execute({ try await db.query(sql) }, timeout: .seconds(2))
    /// ```
    ///
    /// The deadline is kept by the calling thread on the monotonic clock, so the call returns at the
    /// deadline even when the worker's thread is held by a badly behaved operation. The task is then
    /// cancelled; the call does not wait for it to honour the cancellation.
    ///
    /// - Parameters:
    ///   - operation: The async work. Its thrown errors reach the caller unchanged.
    ///   - timeout: How long to wait; `nil` waits as long as it takes. Zero or less throws
    ///     ``AsyncWorkerError/timedOut`` without starting the operation; a huge value means no timeout.
    ///   - fileID: Where the call is made, named in stall reports and diagnostics; leave the default.
    ///   - line: The line of the call, likewise.
    /// - Returns: The value `operation` returned, handed to this caller alone (it need not be `Sendable`).
    /// - Throws: ``AsyncWorkerError/timedOut``; ``AsyncWorkerError/wouldDeadlock`` on the worker's own
    ///   thread (at once, whatever the timeout); ``AsyncWorkerError/shutDown`` if the worker is shut down;
    ///   ``AsyncWorkerError/blockingInAsyncContext`` if called from inside a Swift task under the
    ///   ``BlockingInTaskPolicy/fail`` policy; or the operation's own error.
    @inlinable
    public func execute<T>(
        _ operation: sending @escaping () async throws -> T,
        timeout: Duration? = nil,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> sending T {
        try execute(operation, timeout: timeout, Submission(fileID: fileID, line: line, api: "execute(_:timeout:)"))
    }

    /// Runs `operation` and blocks until it finishes or `timeout` passes, timeout first:
    ///
    /// ```swift
    /// let rows = try dispatcher.execute(timeout: .seconds(2)) {
    ///     try await db.query(sql)
    /// }
    /// ```
    ///
    /// The same call as ``execute(_:timeout:fileID:line:)-(_,Duration?,_,_)``, spelled with a trailing closure.
    @inlinable
    public func execute<T>(
        timeout: Duration?,
        fileID: StaticString = #fileID,
        line: UInt = #line,
        _ operation: sending @escaping () async throws -> T
    ) throws -> sending T {
        try execute(operation, timeout: timeout, Submission(fileID: fileID, line: line, api: "execute(timeout:_:)"))
    }

    /// ``execute(_:timeout:fileID:line:)-(_,Duration?,_,_)`` with the timeout in seconds, for code that keeps
    /// `TimeInterval`s: NaN or negative values time out at once, infinite or huge ones mean no timeout.
    @inlinable
    public func execute<T>(
        _ operation: sending @escaping () async throws -> T,
        timeout seconds: TimeInterval,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> sending T {
        try execute(
            operation,
            timeout: Deadline.duration(fromSeconds: seconds),
            Submission(fileID: fileID, line: line, api: "execute(_:timeout:)")
        )
    }

    /// The timeout-first form with the timeout in seconds: `try dispatcher.execute(timeout: 2.5) { … }`.
    @inlinable
    public func execute<T>(
        timeout seconds: TimeInterval,
        fileID: StaticString = #fileID,
        line: UInt = #line,
        _ operation: sending @escaping () async throws -> T
    ) throws -> sending T {
        try execute(
            operation,
            timeout: Deadline.duration(fromSeconds: seconds),
            Submission(fileID: fileID, line: line, api: "execute(timeout:_:)")
        )
    }

    /// Starts `operation` on the worker and returns its future at once.
    ///
    /// ```swift
    /// let future = dispatcher.executeAsync { try await report.render() }
    /// ```
    ///
    /// The future is already failed with ``AsyncWorkerError/shutDown`` if the worker is shut down. The
    /// name says "async" because the call does not wait for the work; it is itself a synchronous call.
    ///
    /// - Parameters:
    ///   - operation: The async work.
    ///   - fileID: Where the call is made, for stall reports; leave the default.
    ///   - line: The line of the call, likewise.
    @inlinable
    public func executeAsync<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) -> TaskFuture<T> {
        executeAsync(operation, Submission(fileID: fileID, line: line, api: "executeAsync(_:)"))
    }
}
