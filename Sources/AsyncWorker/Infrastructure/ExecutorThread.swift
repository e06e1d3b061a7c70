import Dispatch
import Foundation
import Synchronization

/// One dedicated OS thread and its FIFO queue of jobs: the engine under ``ThreadWorker``.
///
/// Jobs are stored as `UnownedJob`s (two words each with their optional tag, no closure per job). The thread takes the whole queue
/// in one lock acquisition and runs the batch without the lock, so a busy producer and the thread touch
/// the lock once per job and once per batch respectively. When the queue is empty the thread first polls
/// for new work for up to ``idleSpinNanoseconds`` (yielding the CPU on every poll), then sleeps on a
/// condition variable; a producer signals only when it finds the thread asleep, so a steady stream of
/// work costs no wake-up system calls.
///
/// A job is never dropped: jobs that arrive after the thread has exited (a cancelled task resuming late,
/// say) run on a process-wide serial fallback queue.
///
/// For metrics and stall detection the thread publishes, around each job, the job's stamps (see
/// ``JobStamps``). Only the thread writes them.
@usableFromInline
final class ExecutorThread: @unchecked Sendable {
    // @unchecked: `queue`, `timers`, `phase`, `isIdle`, `isBorrowed`, `isRunningJobs`, `waitsForBorrow`,
    // `executor` and `enqueuedJobs` are read and written only while `lock` is held (the thread reads
    // `executor` once, under the lock, before running anything);
    // `osThread` is written by `start()` and taken by `join(until:)` or `detach()`, under `lock`;
    // `idleSpinWait` is read and written only by the thread itself.
    enum Phase {
        case notStarted
        case running
        /// Runs what is queued, then exits.
        case stopping
        /// The thread has left its loop: new jobs go to the fallback queue.
        case exited
    }

    let name: String
    @usableFromInline let identity = ThreadIdentity()
    private let lock = ConditionLock()
    private let exited = Latch()
    /// Set (relaxed) by a producer that makes the queue non-empty, cleared by the thread when it takes
    /// the queue: lets the idle thread poll for work without taking the lock.
    private let hasQueuedJobs = Atomic<Bool>(false)
    /// The idle poll and what it learned; used only by the thread (in `pollForWork()`).
    // Unchecked exclusivity: only the worker thread touches it (a dynamic check costs ~0.2 µs per wait).
    @exclusivity(unchecked) private var idleSpinWait = SpinWait()
    @exclusivity(unchecked) private var queue: [QueuedJob] = []
    // Unchecked exclusivity on the lock-held state below: `lock` serialises every access.
    /// Jobs ever queued for the thread (not those run late, after it exited).
    @exclusivity(unchecked) private var enqueuedJobs: UInt64 = 0
    @exclusivity(unchecked) private var phase = Phase.notStarted
    @exclusivity(unchecked) private var isIdle = false
    /// A caller runs a job in the thread's place (``runInline(_:)``): the thread runs nothing meanwhile.
    @exclusivity(unchecked) private var isBorrowed = false
    /// The thread is running jobs or timers, with the lock released.
    @exclusivity(unchecked) private var isRunningJobs = false
    /// The thread waits for a borrowing caller to finish.
    @exclusivity(unchecked) private var waitsForBorrow = false
    /// Delayed jobs, waiting for their deadlines (see `enqueue(_:at:toleranceNanoseconds:)`).
    @exclusivity(unchecked) private var timers = TimerHeap<UnownedJob>()
    /// The task executor the jobs run on (the owning ``ThreadWorker``).
    @exclusivity(unchecked) private var executor: UnownedTaskExecutor?
    private var osThread: OSThread?

    /// What the thread publishes around each job, for metrics and stall detection (see ``JobStamps``).
    @usableFromInline let stamps = JobStamps()

    /// How long an idle thread polls for new work before it sleeps: longer than a kernel wake-up on a
    /// slow-waking VM (see ``Parker/spinBudgetNanoseconds``), short enough that an idle worker costs
    /// nothing once the last job is 60 µs old.
    static let idleSpinNanoseconds: UInt64 = 60_000

    init(name: String) {
        self.name = name
        queue.reserveCapacity(256)
    }

    /// Starts the thread and waits until it runs and has set its name.
    /// Throws ``AsyncWorkerError/threadStartFailed(errno:)`` if the OS refuses a thread.
    func start(executor: UnownedTaskExecutor) throws(AsyncWorkerError) {
        lock.lock()
        guard phase == .notStarted else {
            lock.unlock()
            return
        }
        self.executor = executor
        lock.unlock()

        // The new thread retains `self` through the closures until its loop ends.
        let spawned = OSThread.spawn(name: name, setup: { self.claimThread() }, body: { self.runLoop() })
        switch spawned {
        case .success(let thread):
            lock.withLock { osThread = thread }
        case .failure(let error):
            throw .threadStartFailed(errno: error.errno)
        }
    }

    /// Runs on the new thread before `start()` returns: from here on, the thread is the worker's.
    private func claimThread() {
        identity.claimCurrentThread()
        lock.withLock { phase = .running }
    }

    /// Appends a job; wakes the thread if it sleeps. `tag` is the job's task executor when the task was
    /// submitted with stall detection on (the job then runs on it, and reports its site).
    @inline(__always)
    func enqueue(_ job: UnownedJob, tag: Unmanaged<SiteTaggedExecutor>? = nil) {
        lock.lock()
        switch phase {
        case .running, .stopping, .notStarted:
            // Jobs queued before start run once the thread starts.
            queue.append(QueuedJob(job: job, tag: tag))
            enqueuedJobs &+= 1
            if queue.count == 1 { hasQueuedJobs.store(true, ordering: .relaxed) }
            let mustWake = isIdle
            isIdle = false
            lock.unlock()
            if mustWake { lock.signal() }
        case .exited:
            let executor = tag.map { $0.takeUnretainedValue().asUnownedTaskExecutor() } ?? self.executor
            lock.unlock()
            runLate(job, executor: executor)
        }
    }

    /// Runs `job` at once on the calling thread, in this thread's place, if the thread has nothing to run:
    /// it is running, idle (polling or asleep), with an empty queue and no other caller in its place.
    /// Returns `false`, having run nothing, otherwise.
    ///
    /// While the job runs, the thread runs nothing (jobs queued meanwhile wait, as behind any job), and
    /// ``identity`` counts the caller as this thread, so isolation checks pass and a blocking call on
    /// the same worker throws `wouldDeadlock` as on the thread itself. Stall detection does not see the
    /// job (its stamps are the thread's own).
    func runInline(_ job: UnownedJob) -> Bool {
        lock.lock()
        guard phase == .running, !isRunningJobs, !isBorrowed, queue.isEmpty, let executor else {
            lock.unlock()
            return false
        }
        isBorrowed = true
        lock.unlock()
        identity.beginBorrowing()
        job.runSynchronously(on: executor)
        identity.endBorrowing()
        lock.lock()
        isBorrowed = false
        var mustWake = waitsForBorrow
        if isIdle && !queue.isEmpty {
            isIdle = false
            mustWake = true
        }
        lock.unlock()
        if mustWake { lock.signal() }
        return true
    }

    /// Asks the thread to exit once its queue is empty. Does not wait.
    func requestStop() {
        lock.lock()
        switch phase {
        case .notStarted:
            phase = .exited
            let orphans = queue
            queue = []
            let executor = self.executor
            lock.unlock()
            exited.open()
            for entry in orphans {
                let tagged = entry.tag.map { $0.takeUnretainedValue().asUnownedTaskExecutor() }
                runLate(entry.job, executor: tagged ?? executor)
            }
            return
        case .running:
            phase = .stopping
        case .stopping, .exited:
            break
        }
        let mustWake = isIdle
        isIdle = false
        lock.unlock()
        if mustWake { lock.signal() }
    }

    /// Waits until the thread has exited or `deadline` passes. Joins the thread if it exited; otherwise
    /// detaches it, so it is reclaimed when it exits later. Returns whether it exited. Call once, after
    /// ``requestStop()``, never from the thread itself.
    func join(until deadline: Deadline) -> Bool {
        let hasExited = exited.wait(until: deadline)
        if let thread = takeOSThread() {
            if hasExited { thread.join() } else { thread.detach() }
        }
        return hasExited
    }

    /// Waits until the thread has left its loop, or `deadline` passes; returns whether it has. Neither
    /// joins nor detaches it.
    func waitForExit(until deadline: Deadline) -> Bool {
        exited.wait(until: deadline)
    }

    /// Lets a thread that will never be joined (shutdown called from the thread itself) be reclaimed.
    func detach() {
        takeOSThread()?.detach()
    }

    /// The thread's handle, once: whoever takes it joins or detaches it.
    private func takeOSThread() -> OSThread? {
        lock.withLock {
            defer { osThread = nil }
            return osThread
        }
    }

    private func runLoop() {
        lock.lock()
        let executor = self.executor!
        lock.unlock()

        var batch: [QueuedJob] = []
        batch.reserveCapacity(256)
        var sequence: UInt64 = 0
        var isStamped = false
        lock.lock()
        while true {
            if isBorrowed {
                // A caller runs a job in this thread's place (see `runInline`): wait until it is done.
                waitsForBorrow = true
                lock.waitPlainly()
                waitsForBorrow = false
                continue
            }
            if !timers.isEmpty { runDueTimers() }
            if queue.isEmpty {
                if phase == .stopping {
                    phase = .exited
                    break
                }
                lock.unlock()
                let workArrived = pollForWork()
                lock.lock()
                if workArrived || !queue.isEmpty || phase != .running { continue }
                isIdle = true
                waitForWorkOrTimer()
                isIdle = false
                continue
            }
            swap(&batch, &queue)
            hasQueuedJobs.store(false, ordering: .relaxed)
            isRunningJobs = true
            lock.unlock()
            // As task-executor jobs, not isolated to the worker's serial executor: isolated, every call
            // to a nonisolated async function would count as an executor switch and go back through
            // this queue (measured: 183 ns per call on an idle worker, 3 µs behind 10 busy tasks;
            // 76 ns either way without). Actors pinned to the worker stay exclusive: one thread runs
            // every job, and `isIsolatingCurrentContext` answers isolation checks.
            let stamping = stamps.isStampingJobs.load(ordering: .relaxed)
            for entry in batch {
                if stamping {
                    stamps.publishStart(site: entry.tag)
                    isStamped = true
                } else if isStamped {
                    stamps.clear()
                    isStamped = false
                }
                sequence &+= 1
                stamps.publishSequence(sequence)
                if let tag = entry.tag {
                    entry.job.runSynchronously(on: tag._withUnsafeGuaranteedRef { $0.asUnownedTaskExecutor() })
                } else {
                    entry.job.runSynchronously(on: executor)
                }
                sequence &+= 1
                stamps.publishSequence(sequence)
                // Orders the next job's stamp after this even sequence (see `JobStamps.runningJob()`).
                atomicMemoryFence(ordering: .releasing)
            }
            // Keep the buffer for the next batch, unless a burst made it huge.
            if batch.capacity > 1 << 16 {
                batch = []
                batch.reserveCapacity(256)
            } else {
                batch.removeAll(keepingCapacity: true)
            }
            lock.lock()
            isRunningJobs = false
        }
        let strandedTimers = timers.removeAll()
        lock.unlock()
        handOff(strandedTimers)
        identity.release()
        exited.open()
    }

    // MARK: Observing the thread

    /// Jobs waiting for the thread (queued, not started).
    var queueDepth: Int {
        lock.lock()
        let enqueued = enqueuedJobs
        let hasExited = phase == .exited
        lock.unlock()
        if hasExited { return 0 }
        // A job counts as started when the sequence turns odd: (sequence + 1) / 2 jobs have started.
        let started = stamps.startedJobs
        return enqueued > started ? Int(enqueued - started) : 0
    }

    /// Polls for queued work for up to ``idleSpinNanoseconds``: spins, then yields the CPU on every poll
    /// so a producer sharing this CPU runs (see ``SpinWait``). Returns whether work arrived.
    private func pollForWork() -> Bool {
        idleSpinWait.poll(until: Deadline.now.nanoseconds &+ Self.idleSpinNanoseconds) {
            hasQueuedJobs.load(ordering: .relaxed)
        }
    }

    /// Whether the caller runs on this thread, or on the fallback queue running one of this thread's late
    /// jobs (which counts as the worker's context: isolation checks pass there, and a blocking call there
    /// would wait for the queue it holds).
    var isCurrent: Bool {
        if identity.isCurrent { return true }
        return Self.lateJobRunner.isCurrent
            && Self.lateJobOwner.load(ordering: .relaxed) == UInt(bitPattern: ObjectIdentifier(self).hashValue)
    }

    /// Runs `job` on the fallback queue (the thread could not be started for it).
    func runElsewhere(_ job: UnownedJob) {
        let executor = lock.withLock { self.executor }
        runLate(job, executor: executor)
    }

    // Jobs that reach a worker after its thread exited run here, one at a time, so a serial executor's
    // guarantee still holds. Rare path: a closure per job is fine.
    private static let lateJobs = DispatchQueue(label: "AsyncWorker.late-jobs")
    /// The thread running a late job right now, and the worker thread that job belongs to (the queue is
    /// serial: one at a time).
    private static let lateJobRunner = ThreadIdentity()
    private static let lateJobOwner = Atomic<UInt>(0)

    private func runLate(_ job: UnownedJob, executor: UnownedTaskExecutor?) {
        let owner = UInt(bitPattern: ObjectIdentifier(self).hashValue)
        Self.lateJobs.async {
            Self.lateJobOwner.store(owner, ordering: .relaxed)
            Self.lateJobRunner.claimCurrentThread()
            defer {
                Self.lateJobRunner.release()
                Self.lateJobOwner.store(0, ordering: .relaxed)
            }
            if let executor {
                job.runSynchronously(on: executor)
            } else {
                job.runSynchronously(on: globalConcurrentExecutor.asUnownedTaskExecutor())
            }
        }
    }
}

extension ExecutorThread {
    /// A queued job and, for a task submitted with stall detection on, its task executor (unretained:
    /// the job's task retains it while the job exists).
    struct QueuedJob {
        let job: UnownedJob
        let tag: Unmanaged<SiteTaggedExecutor>?
    }
}

// MARK: Delayed jobs

extension ExecutorThread {
    /// Schedules `job` to run on the thread at `deadline`, or up to `toleranceNanoseconds` later (never
    /// earlier); wakes the thread if it sleeps past the new deadline. A job waiting for its deadline is not
    /// queued (``queueDepth`` does not count it); when due, it runs at the top of the thread's next pass
    /// (see ``runDueTimers()``). After the thread has exited (or if it never started), the job runs on the
    /// fallback queue at its deadline: it is never dropped.
    func enqueue(_ job: UnownedJob, at deadline: Deadline, toleranceNanoseconds: UInt64) {
        lock.lock()
        switch phase {
        case .running, .stopping:
            let plannedWakeUp = timers.wakeUpTime ?? .max
            timers.insert(
                job,
                deadline: deadline.nanoseconds,
                tolerance: toleranceNanoseconds
            )
            // The thread sleeps until `plannedWakeUp` (or for work): wake it only if this job is due sooner.
            let mustWake = isIdle && deadline.nanoseconds < plannedWakeUp
            if mustWake { isIdle = false }
            lock.unlock()
            if mustWake { lock.signal() }
        case .notStarted, .exited:
            lock.unlock()
            runLate(job, executor: nil, at: deadline)  // on the global executor, as on the thread
        }
    }

    /// Delayed jobs waiting for their deadlines.
    var pendingTimerCount: Int {
        lock.withLock { timers.count }
    }

    /// How close to its next timer the idle thread stops sleeping and polls instead: a timed wait on a
    /// condition variable wakes ~100 µs late here (the kernel's 50 µs timer slack, then the wake-up),
    /// measured; sleeping until this much before the deadline and polling the rest lands within tens of µs.
    static let timerPollNanoseconds: UInt64 = 120_000

    /// The idle thread's wait: until signalled, or until its next timer is due. Lock held (released while
    /// waiting). Without timers this is the plain wait it always was.
    private func waitForWorkOrTimer() {
        guard let wakeUp = timers.wakeUpTime else {
            lock.waitPlainly()
            return
        }
        let now = Deadline.now.nanoseconds
        if wakeUp > now &+ Self.timerPollNanoseconds {
            lock.waitPlainly(until: Deadline(nanoseconds: wakeUp - Self.timerPollNanoseconds))
            return
        }
        // Close to the deadline: spin on the clock until it passes or work arrives, with the lock released
        // (no `sched_yield`: on a loaded machine one yield can cost a whole time slice, measured p99 2 ms).
        lock.unlock()
        while Deadline.now.nanoseconds < wakeUp && !hasQueuedJobs.load(ordering: .relaxed) {
            continue
        }
        lock.lock()
    }

    /// Runs every timer whose deadline has passed, earliest first. Called by the thread with the lock held;
    /// releases it while the jobs run.
    ///
    /// A delayed job runs on the thread at once, ahead of the queue, and not as the worker's job: on 6.3.1 it
    /// is the job of a sleep's own helper task, which has no executor preference, and run as a job of this
    /// worker it would hop to the global executor first (measured: with the pool starved, it then waits for
    /// the pool). Run as a job of the global executor it runs here, inline, and resumes the sleeper, whose
    /// next job joins the queue. A job of a task that prefers this worker would hop back to it: correct
    /// either way. So a due timer is never "queued" (``queueDepth``), and it takes microseconds.
    private func runDueTimers() {
        let now = Deadline.now.nanoseconds
        guard let first = timers.popDue(now: now) else { return }
        var due = [first]
        while let entry = timers.popDue(now: now) { due.append(entry) }
        isRunningJobs = true
        lock.unlock()
        for entry in due {
            entry.runSynchronously(on: Self.timerJobExecutor)
        }
        lock.lock()
        isRunningJobs = false
    }

    /// The task executor delayed jobs run on (see ``runDueTimers()``).
    private static let timerJobExecutor = globalConcurrentExecutor.asUnownedTaskExecutor()

    /// Hands the timers left when the thread exits to the fallback queue, each to run at its deadline.
    private func handOff(_ entries: [TimerHeap<UnownedJob>.Entry]) {
        for entry in entries {
            runLate(entry.element, executor: nil, at: Deadline(nanoseconds: entry.deadline))
        }
    }

    /// ``runLate(_:executor:)`` once `deadline` has passed (at once if it has). Rare path: a closure and a
    /// Dispatch timer per job are fine.
    private func runLate(_ job: UnownedJob, executor: UnownedTaskExecutor?, at deadline: Deadline) {
        let now = Deadline.now
        guard deadline > now else { return runLate(job, executor: executor) }
        let remaining = Int(clamping: deadline.nanoseconds - now.nanoseconds)
        Self.lateJobs.asyncAfter(deadline: .now() + .nanoseconds(remaining)) {
            self.runLate(job, executor: executor)
        }
    }
}
