import Foundation

/// The port through which work reaches a thread: owns the thread and runs tasks on it.
///
/// Two adapters ship with the library: ``ThreadWorker`` (one dedicated thread, for production) and
/// ``ManualWorker`` (runs nothing until a test says so, on the test's own thread). Callers normally use
/// a ``Dispatcher`` on top of a worker, which adds timeouts and deadlock detection; ``Pipeline``, the
/// blocking iterators and ``TaskDispatcher`` accept any worker.
///
/// The one submission requirement, ``submit(_:_:)``, takes a ``Submission``: the call site and the
/// deadline for room travel with the work through every layer, so a per-call option is added in one place.
public protocol Worker: AnyObject, Sendable {
    /// `true` between a successful ``start()`` and ``shutdown(timeout:)``.
    var isRunning: Bool { get }

    /// `true` when called on the thread that runs this worker's jobs. Blocking there would deadlock.
    var isCurrentThread: Bool { get }

    /// Starts the worker's thread and returns once it is ready. Starting a running worker does nothing.
    ///
    /// - Throws: ``AsyncWorkerError/shutDown`` after shutdown (a worker is never restarted), or
    ///   ``AsyncWorkerError/threadStartFailed(errno:)`` if the thread cannot be created.
    func start() throws

    /// Starts `operation` as a task on the worker (starting the worker if needed) and returns its future.
    ///
    /// Returns at once unless the worker is full: then it waits for room until the submission's deadline
    /// (the future is then already failed with ``AsyncWorkerError/timedOut``). After shutdown the future is
    /// already failed with ``AsyncWorkerError/shutDown``. `submission` names the call site in stall reports.
    func submit<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        _ submission: Submission
    ) -> TaskFuture<T>

    /// Stops intake, lets pending tasks finish until `timeout` (`nil`: as long as they take), cancels
    /// what remains, resolves every future still pending with ``AsyncWorkerError/shutDown`` and joins
    /// the thread. Calling it again returns the first report. Never throws, never hangs past the
    /// timeout plus a short grace period, from any thread and from any handler it runs.
    @discardableResult
    func shutdown(timeout: Duration?) -> ShutdownReport
}

extension Worker {
    /// Starts `operation` as a task on the worker and returns its future; see ``submit(_:_:)``.
    ///
    /// ```swift
    /// let future = worker.submit { try await cache.refresh() }
    /// ```
    ///
    /// - Parameters:
    ///   - operation: The async work.
    ///   - fileID: Where the task is submitted from, for stall reports; leave the default, or forward
    ///     your own caller's.
    ///   - line: The line of the submission, likewise.
    @inlinable
    public func submit<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) -> TaskFuture<T> {
        submit(operation, Submission(fileID: fileID, line: line, api: "submit(_:)"))
    }

    /// Shuts down, letting pending work finish as long as it takes. See ``Worker/shutdown(timeout:)``.
    @discardableResult
    public func shutdown() -> ShutdownReport { shutdown(timeout: nil) }

    /// Shuts down with a timeout in seconds, for code that keeps `TimeInterval`s: NaN or negative
    /// values mean no drain, infinite or huge ones no limit. See ``Worker/shutdown(timeout:)``.
    @discardableResult
    public func shutdown(timeout seconds: TimeInterval) -> ShutdownReport {
        shutdown(timeout: Deadline.duration(fromSeconds: seconds))
    }
}
