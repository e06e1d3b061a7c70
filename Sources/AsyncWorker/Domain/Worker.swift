/// The port through which work reaches a thread: owns the thread and runs tasks on it.
///
/// ``ThreadWorker`` is the implementation; callers normally use a ``Dispatcher`` on top of a worker,
/// which adds timeouts and deadlock detection.
public protocol Worker: AnyObject, Sendable {
    /// `true` between a successful ``start()`` and ``shutdown(timeout:)``.
    var isRunning: Bool { get }

    /// `true` when called on the worker's own thread. Blocking there would deadlock.
    var isCurrentThread: Bool { get }

    /// Starts the worker's thread and returns once it is ready. Starting a running worker does nothing.
    ///
    /// - Throws: ``AsyncWorkerError/shutDown`` after shutdown (a worker is never restarted), or
    ///   ``AsyncWorkerError/threadStartFailed(errno:)`` if the thread cannot be created.
    func start() throws

    /// Starts `operation` as a task on the worker (starting the worker if needed) and returns its future
    /// at once. After shutdown the future is already failed with ``AsyncWorkerError/shutDown``.
    func submit<T: Sendable>(_ operation: sending @escaping () async throws -> T) -> TaskFuture<T>

    /// Stops intake, lets pending tasks finish until `timeout` (`nil`: as long as they take), cancels
    /// what remains, resolves every future still pending with ``AsyncWorkerError/shutDown`` and joins
    /// the thread. Calling it again returns the first report. Never throws, never hangs past the
    /// timeout plus a short grace period, from any thread and from any handler it runs.
    @discardableResult
    func shutdown(timeout: Duration?) -> ShutdownReport
}

extension Worker {
    /// Shuts down, letting pending work finish as long as it takes. See ``Worker/shutdown(timeout:)``.
    @discardableResult
    public func shutdown() -> ShutdownReport { shutdown(timeout: nil) }
}
