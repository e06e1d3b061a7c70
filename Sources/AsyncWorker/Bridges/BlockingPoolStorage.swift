/// The lock behind a ``BlockingThreadPool``: guards its ``BlockingPoolStateMachine``, runs the pool's
/// threads, and acts on the machine's decisions after releasing the lock (continuations are resumed,
/// user work runs, threads are started, joined or detached only with the lock released).
final class BlockingPoolStorage: @unchecked Sendable {
    // @unchecked: `machine` (and each job's phase, which only the machine changes) is read and written
    // only while `lock` is held.
    private let lock = ConditionLock()
    private var machine: BlockingPoolStateMachine  // protected by `lock`
    private let name: String
    private let shutdownOnce = ShutdownOnce<ShutdownReport>()

    init(name: String, size: Int) {
        self.name = name
        self.machine = BlockingPoolStateMachine(size: size)
    }

    var isAcceptingWork: Bool { lock.withLock { machine.isAcceptingWork } }

    /// Jobs waiting for a thread (for tests and diagnostics).
    var queuedJobCount: Int { lock.withLock { machine.queuedCount } }

    /// Threads started so far (for tests and diagnostics).
    var startedThreadCount: Int { lock.withLock { machine.threads.count } }

    // MARK: Intake and cancellation

    func enqueue<T>(_ job: BlockingPoolJob<T>, continuation: UnsafeContinuation<T, any Error>) {
        let action: BlockingPoolStateMachine.EnqueueAction = lock.withLock {
            job.continuation = continuation
            return machine.enqueue(job)
        }
        switch action {
        case .refuse(let error):
            job.fail(error)
        case .queued(let wakesIdleThread, let startingThread):
            if wakesIdleThread { lock.signal() }
            if let startingThread { startThread(startingThread) }
        }
    }

    /// The awaiting task was cancelled: a queued job is removed and fails; a running one goes on.
    func cancel(_ job: any BlockingPoolJobBase) {
        if lock.withLock({ machine.cancel(job) }) {
            job.fail(CancellationError())
        }
    }

    // MARK: Threads

    /// Starts thread `index`, whose slot the machine reserved (no lock held).
    private func startThread(_ index: Int) {
        let spawned = OSThread.spawn(name: Self.threadName(name, index: index)) { self.threadBody(index) }
        switch spawned {
        case .success(let handle):
            if !lock.withLock({ machine.threadStarted(index, handle: handle) }) { handle.detach() }
        case .failure(let error):
            let stranded = lock.withLock { machine.threadFailedToStart(index) }
            for job in stranded { job.fail(AsyncWorkerError.threadStartFailed(errno: error.errno)) }
        }
    }

    /// The OS name of thread `index`: `"<name>-<index>"` in at most the bytes the OS keeps (15 on Linux),
    /// the suffix always kept.
    static func threadName(_ name: String, index: Int) -> String {
        let suffix = "-\(index)"
        let prefixBudget = max(0, OSThread.maximumNameBytes - suffix.utf8.count)
        return ThreadName.osName(for: name, maxBytes: prefixBudget) + suffix
    }

    private func threadBody(_ index: Int) {
        lock.lock()
        machine.threadEntered(index, osThreadID: OSThread.currentID)
        while true {
            switch machine.nextStep(forThread: index) {
            case .run(let job):
                lock.unlock()
                job.runWork()
                lock.lock()
                let (deliver, wakeDrain) = machine.jobFinished(job, onThread: index)
                lock.unlock()
                if deliver { job.deliver() }
                if wakeDrain { lock.broadcast() }
                lock.lock()
            case .wait:
                lock.waitPlainly()
                machine.threadWoke()
            case .exit:
                lock.unlock()
                return
            }
        }
    }

    /// Lets the threads exit and reclaims them without joining (the pool object was released).
    func releaseThreads() {
        let handles = lock.withLock { machine.releaseThreads() }
        lock.broadcast()
        for handle in handles { handle.detach() }
    }

    // MARK: Shutdown

    func shutdown(timeout: Duration?) -> ShutdownReport {
        let me = OSThread.currentID
        let onOwnThread = lock.withLock { machine.isPoolThread(me) }
        // A concurrent call waits for the first one within its own timeout plus a grace period.
        let waitDeadline = Deadline.after(timeout).adding(.seconds(1))
        return shutdownOnce.report(waitingUntil: waitDeadline, mayWait: !onOwnThread) {
            performShutdown(timeout: timeout, onOwnThread: onOwnThread)
        }
    }

    private func performShutdown(timeout: Duration?, onOwnThread: Bool) -> ShutdownReport {
        lock.lock()
        machine.beginShutdown()
        // Idle threads wake, find nothing to do once the queue is empty, and exit.
        lock.broadcast()
        // Drain until the deadline (not on a pool thread: it would wait for itself). The wait follows the
        // main-thread waiting policy.
        let deadline = onOwnThread ? Deadline.after(.zero) : Deadline.after(timeout)
        while !machine.isDrained {
            if !lock.wait(until: deadline) && deadline.hasPassed { break }
        }
        let abandonment = machine.abandonAll(callerThreadID: OSThread.currentID)
        lock.unlock()
        lock.broadcast()

        for job in abandonment.jobs { job.fail(AsyncWorkerError.shutDown) }
        for handle in abandonment.toDetach { handle.detach() }
        for handle in abandonment.toJoin { handle.join() }
        return ShutdownReport(
            drainedTasks: abandonment.drained,
            abandonedTasks: abandonment.jobs.count,
            threadExited: abandonment.allThreadsJoined
        )
    }
}
