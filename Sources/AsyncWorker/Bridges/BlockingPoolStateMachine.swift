/// The bookkeeping of a ``BlockingThreadPool`` as a value: intake, the FIFO of queued jobs, the jobs
/// running, the threads and the shutdown lifecycle. ``BlockingPoolStorage`` owns it behind its lock and
/// acts on what each transition returns (resume a continuation, start or join a thread) after releasing
/// the lock; nothing here blocks, calls out or takes a lock.
///
/// A job goes `new → queued → running → finished`, or leaves early: cancelled before it was queued
/// (`cancelledEarly`, failed when it arrives), cancelled while queued, refused (shut down), or
/// abandoned at the shutdown deadline. Its ``BlockingPoolJobBase/phase`` is changed only here. A job
/// cancelled while queued stays in the FIFO, marked finished, and is skipped when it comes up: removal
/// is O(1).
struct BlockingPoolStateMachine {
    enum Lifecycle {
        case running
        /// No intake; threads run what is queued and exit when the queue is empty.
        case stopping
    }

    /// One OS thread of the pool.
    struct ThreadRecord {
        let index: Int
        /// `nil` while the thread is being started, and once it was joined or detached.
        var handle: OSThread?
        var osThreadID: UInt = 0
        var isBusy = false
        var hasExited = false
    }

    enum EnqueueAction {
        /// Fail the job with this error at once (cancelled early, or the pool is shut down).
        case refuse(any Error)
        /// The job is queued; start thread `startingThread` if set (outside the lock), and wake an idle
        /// thread if `wakesIdleThread`.
        case queued(wakesIdleThread: Bool, startingThread: Int?)
    }

    enum ThreadStep {
        /// Run this job (its phase is `running`).
        case run(any BlockingPoolJobBase)
        /// Nothing to do: sleep until signalled (counted idle until ``threadWoke()``).
        case wait
        /// Shutting down and nothing is queued: leave the loop.
        case exit
    }

    /// What shutdown must do at its deadline.
    struct Abandonment {
        /// Fail these with `.shutDown` (queued ones never ran; running ones lose their caller).
        var jobs: [any BlockingPoolJobBase]
        /// Idle or exited threads: join them.
        var toJoin: [OSThread]
        /// Busy threads (or the caller's own): detach them; they exit when their job returns.
        var toDetach: [OSThread]
        /// Whether every thread will have exited and been joined once `toJoin` is: `false` if one is
        /// detached, or still starting (its starter detaches it, see ``threadStarted(_:handle:)``).
        var allThreadsJoined: Bool
        var drained: Int
    }

    let size: Int
    private(set) var lifecycle = Lifecycle.running
    private var queue = FIFO<any BlockingPoolJobBase>()
    /// Queued jobs that are still to run (the FIFO also holds cancelled ones, skipped later).
    private(set) var queuedCount = 0
    private var running: [ObjectIdentifier: any BlockingPoolJobBase] = [:]
    private(set) var threads: [ThreadRecord] = []
    private var idleThreads = 0
    /// Jobs finished while shutdown drains (for the report).
    private var drainedDuringShutdown = 0
    /// Shutdown or release took the threads' handles: a thread still starting is detached at once.
    private var hasReleasedThreads = false

    init(size: Int) {
        self.size = size
    }

    var isAcceptingWork: Bool {
        if case .running = lifecycle { return true }
        return false
    }

    /// Nothing queued and nothing running.
    var isDrained: Bool { queuedCount == 0 && running.isEmpty }

    // MARK: Intake and cancellation

    mutating func enqueue(_ job: any BlockingPoolJobBase) -> EnqueueAction {
        if job.phase == .cancelledEarly {
            job.phase = .finished
            return .refuse(CancellationError())
        }
        guard isAcceptingWork else {
            job.phase = .finished
            return .refuse(AsyncWorkerError.shutDown)
        }
        job.phase = .queued
        queue.append(job)
        queuedCount += 1
        var starting: Int?
        if queuedCount > idleThreads && threads.count < size {
            starting = threads.count
            threads.append(ThreadRecord(index: threads.count))
        }
        return .queued(wakesIdleThread: idleThreads > 0, startingThread: starting)
    }

    /// The awaiting task was cancelled. Returns whether to fail the job with `CancellationError` now (it
    /// was queued); a job not yet queued fails when it arrives; a running one goes on.
    mutating func cancel(_ job: any BlockingPoolJobBase) -> Bool {
        switch job.phase {
        case .new:
            job.phase = .cancelledEarly
            return false
        case .queued:
            job.phase = .finished  // stays in the FIFO, skipped when it comes up
            queuedCount -= 1
            return true
        case .cancelledEarly, .running, .finished:
            return false
        }
    }

    // MARK: Threads

    /// Thread `index` was started. Returns `false` if the pool has already given its threads away (shut
    /// down or released while this one was starting): then the caller detaches it (it exits by itself).
    mutating func threadStarted(_ index: Int, handle: OSThread) -> Bool {
        guard !hasReleasedThreads else { return false }
        threads[index].handle = handle
        return true
    }

    /// Thread `index` could not be started. If the pool has no other thread, nobody can run what is
    /// queued: returns those jobs (finished now) to fail with `error`.
    mutating func threadFailedToStart(_ index: Int) -> [any BlockingPoolJobBase] {
        threads[index].hasExited = true
        // The last slot is freed for a later try; one in the middle stays taken (rare: two threads
        // starting at once, the first refused).
        if index == threads.count - 1 { threads.removeLast() }
        guard threads.allSatisfy({ $0.hasExited }) else { return [] }
        threads.removeAll()
        var stranded: [any BlockingPoolJobBase] = []
        while !queue.isEmpty {
            let job = queue.popFirst()
            guard job.phase == .queued else { continue }
            job.phase = .finished
            stranded.append(job)
        }
        queuedCount = 0
        return stranded
    }

    /// Thread `index` (id `osThreadID`) entered its loop.
    mutating func threadEntered(_ index: Int, osThreadID: UInt) {
        threads[index].osThreadID = osThreadID
    }

    /// What thread `index` does next.
    mutating func nextStep(forThread index: Int) -> ThreadStep {
        while !queue.isEmpty {
            let job = queue.popFirst()
            guard job.phase == .queued else { continue }  // cancelled while queued
            queuedCount -= 1
            job.phase = .running
            running[ObjectIdentifier(job)] = job
            threads[index].isBusy = true
            return .run(job)
        }
        if isAcceptingWork {
            idleThreads += 1
            return .wait
        }
        threads[index].hasExited = true
        return .exit
    }

    /// A thread that got ``ThreadStep/wait`` woke up.
    mutating func threadWoke() {
        idleThreads -= 1
    }

    /// Thread `index` finished `job`. Returns whether to deliver its outcome (shutdown may have
    /// abandoned it meanwhile) and whether a waiting shutdown must be woken (the pool just drained).
    mutating func jobFinished(_ job: any BlockingPoolJobBase, onThread index: Int) -> (deliver: Bool, wakeDrain: Bool) {
        threads[index].isBusy = false
        running[ObjectIdentifier(job)] = nil
        guard job.phase == .running else { return (false, false) }
        job.phase = .finished
        guard case .stopping = lifecycle else { return (true, false) }
        drainedDuringShutdown += 1
        return (true, isDrained)
    }

    /// Whether the thread with id `osThreadID` is one of the pool's live threads.
    func isPoolThread(_ osThreadID: UInt) -> Bool {
        threads.contains { $0.osThreadID == osThreadID && !$0.hasExited }
    }

    // MARK: Shutdown and release

    /// Closes intake; threads exit once the queue is empty.
    mutating func beginShutdown() {
        lifecycle = .stopping
        drainedDuringShutdown = 0
    }

    /// At shutdown's deadline: every job still queued or running is abandoned; idle threads are to be
    /// joined, busy ones (and the caller's own) detached.
    mutating func abandonAll(callerThreadID: UInt) -> Abandonment {
        hasReleasedThreads = true
        var abandonment = Abandonment(
            jobs: [],
            toJoin: [],
            toDetach: [],
            allThreadsJoined: true,
            drained: drainedDuringShutdown
        )
        while !queue.isEmpty {
            let job = queue.popFirst()
            guard job.phase == .queued else { continue }
            job.phase = .finished
            abandonment.jobs.append(job)
        }
        queuedCount = 0
        for job in running.values {
            job.phase = .finished
            abandonment.jobs.append(job)
        }
        running.removeAll()
        for index in threads.indices {
            // Judged by the record, not by the handle: a thread that started running its first job before
            // its starter recorded the handle is busy all the same.
            let mustDetach = threads[index].isBusy || threads[index].osThreadID == callerThreadID
            guard let handle = threads[index].handle else {
                if !threads[index].hasExited { abandonment.allThreadsJoined = false }
                continue
            }
            threads[index].handle = nil
            if mustDetach {
                abandonment.toDetach.append(handle)
                abandonment.allThreadsJoined = false
            } else {
                abandonment.toJoin.append(handle)
            }
        }
        return abandonment
    }

    /// The pool object was released (no call is awaiting): stop intake; returns the threads to detach.
    mutating func releaseThreads() -> [OSThread] {
        lifecycle = .stopping
        hasReleasedThreads = true
        var handles: [OSThread] = []
        for index in threads.indices {
            if let handle = threads[index].handle { handles.append(handle) }
            threads[index].handle = nil
        }
        return handles
    }
}
