import Foundation

/// A bounded pool of dedicated threads that runs blocking, synchronous work for async code, so the
/// cooperative pool's threads are never held by it.
///
/// ```swift
/// let pool = BlockingThreadPool(name: "sqlite", size: 2)
/// let rows = try await pool.run { try legacyDatabase.query(sql) }   // the awaiting task suspends
/// pool.shutdown(timeout: .seconds(5))
/// ```
///
/// Threads are started on demand, up to ``size``: an idle pool owns no thread, and a thread, once started,
/// stays until ``shutdown(timeout:)-(Duration?)``. Jobs start in submission order (FIFO). Each thread is named from
/// inside the thread `"<name>-<index>"`, cut to the bytes the OS keeps — 15 on Linux, 63 on Darwin (the
/// index is kept; the name is
/// cut at a character boundary).
///
/// The global ``runSyncTask(_:)`` uses ``shared``.
public final class BlockingThreadPool: Sendable {
    /// The name given at creation; threads are named `"<name>-<index>"` (at most 15 bytes on Linux).
    public let name: String
    /// The most threads the pool runs at once: the most jobs that run at the same time.
    public let size: Int
    let storage: BlockingPoolStorage

    /// The size of ``shared``: `min(max(2 × cores, 4), 16)`: 4 on a 2-core machine.
    ///
    /// Blocking work is mostly waiting (file and network I/O, a C library's own locks), so twice as many
    /// threads as cores keeps the CPUs busy while half of them wait; at least 4, so a couple of slow calls
    /// do not serialise everything on a small machine; at most 16, so a process-wide default does not turn
    /// into hundreds of threads (each reserves a stack) on a big one. Threads start only when work is
    /// queued, so an unused capacity costs nothing. Create your own pool for other needs.
    public static let defaultSize: Int = {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return min(max(2 * cores, 4), 16)
    }()

    /// The process-wide pool behind ``runSyncTask(_:)``, named `"AW-blocking"`, of ``defaultSize``
    /// threads, started on first use (Swift initialises it once, race-free).
    ///
    /// - Important: Don't shut it down: it is never restarted, so every later ``runSyncTask(_:)`` in the
    ///   process would throw ``AsyncWorkerError/shutDown``.
    public static let shared = BlockingThreadPool(name: "AW-blocking", size: defaultSize)

    /// Creates a pool; its threads start when work arrives.
    ///
    /// - Parameters:
    ///   - name: The threads' name prefix; each is named `"<name>-<index>"`, cut to 15 bytes on
    ///     Linux (63 on Darwin).
    ///   - size: The most threads, hence the most jobs running at once. Values below 1 mean 1.
    public init(name: String, size: Int = BlockingThreadPool.defaultSize) {
        self.name = name
        self.size = max(1, size)
        self.storage = BlockingPoolStorage(name: name, size: max(1, size))
    }

    deinit {
        // No call is awaiting (each `run` keeps the pool alive), so nothing is queued: let the threads go.
        storage.releaseThreads()
    }

    /// `true` until ``shutdown(timeout:)-(Duration?)`` is called.
    public var isRunning: Bool { storage.isAcceptingWork }

    /// Runs `work` on one of the pool's threads and suspends the calling task until it returns.
    ///
    /// The awaiting task does not hold a thread while it waits. When every thread is busy, the job waits in
    /// a FIFO queue.
    ///
    /// - Cancellation: if the awaiting task is cancelled while the job is still queued, the job is removed,
    ///   `work` never runs and this throws `CancellationError`. Once `work` has started it runs to the end
    ///   (synchronous code cannot be interrupted) and its value or error is returned even though the task
    ///   was cancelled; check `Task.isCancelled` afterwards if that matters.
    /// - Shutdown: after ``shutdown(timeout:)-(Duration?)`` began, this throws ``AsyncWorkerError/shutDown`` without
    ///   running `work`; a job still queued, or still running, at the shutdown deadline ends with
    ///   ``AsyncWorkerError/shutDown`` (a running one keeps running, its result is dropped).
    ///
    /// - Parameter work: The blocking work. Its errors reach the caller unchanged.
    /// - Returns: The value `work` returned.
    /// - Throws: The error `work` threw; `CancellationError`; ``AsyncWorkerError/shutDown``; or
    ///   ``AsyncWorkerError/threadStartFailed(errno:)`` if the pool has no thread and cannot start one.
    public func run<T: Sendable>(_ work: sending @escaping () throws -> T) async throws -> T {
        let job = BlockingPoolJob<T>(work: work)
        let storage = self.storage
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
                storage.enqueue(job, continuation: continuation)
            }
        } onCancel: {
            storage.cancel(job)
        }
    }

    /// Stops the pool: refuses new work, lets queued and running jobs finish until `timeout`, then ends
    /// what remains with ``AsyncWorkerError/shutDown`` and joins the threads.
    ///
    /// Blocks the calling thread. When it returns, every call to ``run(_:)`` on this pool has returned or
    /// thrown — none is left waiting. Queued jobs still waiting at the deadline never run. A job still
    /// running at the deadline cannot be interrupted: its caller gets ``AsyncWorkerError/shutDown`` at once,
    /// its thread is detached and exits when the job returns (its result is dropped), and the report says
    /// the threads did not all exit. Called from one of the pool's own threads, it does not wait (a thread
    /// cannot wait for itself): everything is ended at once. Calling it again returns the first report; a
    /// concurrent call waits for the first, within its own `timeout` plus one second. A pool is never
    /// restarted.
    ///
    /// - Parameter timeout: How long queued and running jobs may go on; `nil` waits as long as they take.
    /// - Returns: ``ShutdownReport/drainedTasks`` counts the jobs that finished during the shutdown,
    ///   ``ShutdownReport/abandonedTasks`` those ended with ``AsyncWorkerError/shutDown``, and
    ///   ``ShutdownReport/threadExited`` whether every thread exited and was joined.
    @discardableResult
    public func shutdown(timeout: Duration? = nil) -> ShutdownReport {
        storage.shutdown(timeout: timeout)
    }

    /// Shuts down with a timeout in seconds, for code that keeps `TimeInterval`s: NaN or negative values
    /// don't wait, infinite or huge ones wait as long as the jobs take. See
    /// ``shutdown(timeout:)-(Duration?)``.
    @discardableResult
    public func shutdown(timeout seconds: TimeInterval) -> ShutdownReport {
        storage.shutdown(timeout: Deadline.duration(fromSeconds: seconds))
    }
}

// MARK: - Jobs

/// Where a queued call stands. Changed only by ``BlockingPoolStateMachine``, under the owning pool's lock.
enum BlockingPoolJobPhase {
    /// Created, not yet in the queue.
    case new
    /// Cancelled before it reached the queue: enqueueing fails it at once.
    case cancelledEarly
    case queued
    case running
    /// Resumed (ran, was cancelled, rejected or abandoned): nothing more may touch it.
    case finished
}

/// A queued call, whatever its result type: what the pool's storage needs of it.
protocol BlockingPoolJobBase: AnyObject, Sendable {
    /// Guarded by the owning pool's lock.
    var phase: BlockingPoolJobPhase { get set }

    /// Runs the work on the calling thread and keeps its outcome, without resuming anybody.
    func runWork()

    /// Resumes the awaiting task with the outcome `runWork()` produced.
    func deliver()

    /// Resumes the awaiting task with `error`; the work never runs or its result is dropped.
    func fail(_ error: any Error)
}

/// A queued call: the work and the continuation of the task awaiting it.
final class BlockingPoolJob<T: Sendable>: BlockingPoolJobBase, @unchecked Sendable {
    // @unchecked: `phase` is read and written only under the owning pool's lock, and the continuation is
    // resumed only by the one party that moved `phase` to `.finished`. `work` and `outcome` are used only
    // by the thread running the job;
    // `continuation` is written under the pool's lock before the job is queued and then used once, by
    // whoever moved `phase` to `.finished` under that lock.
    private var work: (() throws -> T)?
    private var outcome: Result<T, any Error>?
    var continuation: UnsafeContinuation<T, any Error>?

    var phase = BlockingPoolJobPhase.new

    init(work: sending @escaping () throws -> T) {
        self.work = work
    }

    func runWork() {
        let work = self.work!
        self.work = nil
        outcome = Result { try work() }
    }

    func deliver() {
        continuation!.resume(with: outcome!)
        continuation = nil
    }

    func fail(_ error: any Error) {
        // Leaves `work` alone: an abandoned job may still be running on its thread.
        continuation!.resume(throwing: error)
        continuation = nil
    }
}
