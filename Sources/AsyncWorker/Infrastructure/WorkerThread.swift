import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One dedicated OS thread and its FIFO queue of jobs: the engine under ``ThreadWorker``.
///
/// Jobs are stored as `UnownedJob`s (one word each, no closure per job). The thread takes the whole queue
/// in one lock acquisition and runs the batch without the lock, so a busy producer and the thread touch
/// the lock once per job and once per batch respectively. When the queue is empty the thread first polls
/// for new work for up to ``idleSpinNanoseconds`` (yielding the CPU on every poll), then sleeps on a
/// condition variable; a producer signals only when it finds the thread asleep, so a steady stream of
/// work costs no wake-up system calls.
///
/// A job is never dropped: jobs that arrive after the thread has exited (a cancelled task resuming late,
/// say) run on a process-wide serial fallback queue.
@usableFromInline
final class WorkerThread: @unchecked Sendable {
    // @unchecked: `queue`, `phase`, `isIdle` and `executor` are read and written only while `lock` is
    // held (the thread reads `executor` once, under the lock, before running anything); `pthread` is
    // written by `start()` and read by `join(until:)`, which shutdown orders after it.
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
    @exclusivity(unchecked) private var queue: [UnownedJob] = []
    private var phase = Phase.notStarted
    private var isIdle = false
    /// The task executor the jobs run on (the owning ``ThreadWorker``).
    private var executor: UnownedTaskExecutor?
    private var pthread: pthread_t?

    /// Linux keeps at most 15 bytes of a thread's name (16 with the terminating NUL).
    static let maximumOSNameBytes = 15

    /// How long an idle thread polls for new work before it sleeps.
    static let idleSpinNanoseconds: UInt64 = 20_000

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

        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(
            &thread,
            nil,
            { context in
                Unmanaged<WorkerThread>.fromOpaque(context!).takeRetainedValue().runLoop()
                return nil
            },
            context
        )
        guard status == 0 else {
            Unmanaged<WorkerThread>.fromOpaque(context).release()
            throw .threadStartFailed(errno: status)
        }
        lock.lock()
        pthread = thread
        while phase == .notStarted { lock.wait() }
        lock.unlock()
    }

    /// Appends a job; wakes the thread if it sleeps.
    @inline(__always)
    func enqueue(_ job: UnownedJob) {
        lock.lock()
        switch phase {
        case .running, .stopping, .notStarted:
            // Jobs queued before start run once the thread starts.
            queue.append(job)
            if queue.count == 1 { hasQueuedJobs.store(true, ordering: .relaxed) }
            let mustWake = isIdle
            isIdle = false
            lock.unlock()
            if mustWake { lock.signal() }
        case .exited:
            let executor = self.executor
            lock.unlock()
            WorkerThread.runLate(job, executor: executor)
        }
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
            for job in orphans { WorkerThread.runLate(job, executor: executor) }
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
        if let thread = lock.withLock({ () -> pthread_t? in
            defer { pthread = nil }
            return pthread
        }) {
            if hasExited { pthread_join(thread, nil) } else { pthread_detach(thread) }
        }
        return hasExited
    }

    /// Lets a thread that will never be joined (shutdown called from the thread itself) be reclaimed.
    func detach() {
        if let thread = lock.withLock({ () -> pthread_t? in
            defer { pthread = nil }
            return pthread
        }) {
            pthread_detach(thread)
        }
    }

    private func runLoop() {
        Self.setCurrentThreadName(name)
        identity.claimCurrentThread()
        lock.lock()
        let executor = self.executor!
        phase = .running
        lock.unlock()
        lock.broadcast()

        var batch: [UnownedJob] = []
        batch.reserveCapacity(256)
        lock.lock()
        while true {
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
                lock.wait()
                isIdle = false
                continue
            }
            swap(&batch, &queue)
            hasQueuedJobs.store(false, ordering: .relaxed)
            lock.unlock()
            // As task-executor jobs, not isolated to the worker's serial executor: isolated, every call
            // to a nonisolated async function would count as an executor switch and go back through
            // this queue (measured: 183 ns per call on an idle worker, 3 µs behind 10 busy tasks;
            // 76 ns either way without). Actors pinned to the worker stay exclusive: one thread runs
            // every job, and `isIsolatingCurrentContext` answers isolation checks.
            for job in batch {
                job.runSynchronously(on: executor)
            }
            // Keep the buffer for the next batch, unless a burst made it huge.
            if batch.capacity > 1 << 16 {
                batch = []
                batch.reserveCapacity(256)
            } else {
                batch.removeAll(keepingCapacity: true)
            }
            lock.lock()
        }
        lock.unlock()
        identity.release()
        exited.open()
    }

    /// Polls for queued work for up to ``idleSpinNanoseconds``, yielding the CPU on every poll so a
    /// producer sharing this CPU runs at once. Returns whether work arrived.
    private func pollForWork() -> Bool {
        let end = Deadline.now.nanoseconds &+ Self.idleSpinNanoseconds
        repeat {
            sched_yield()
            if hasQueuedJobs.load(ordering: .relaxed) { return true }
        } while Deadline.now.nanoseconds < end
        return false
    }

    /// Sets the OS name of the calling thread, cut to the 15 bytes Linux keeps (at a character boundary):
    /// Linux refuses a longer name outright, which would leave the thread unnamed.
    static func setCurrentThreadName(_ name: String) {
        // Foundation's setter calls pthread_setname_np for the current thread (Glibc's module does not
        // export it), and `Thread.current.name` then reads the OS name back.
        Thread.current.name = osName(for: name)
    }

    /// The prefix of `name` that Linux keeps: at most `maxBytes` (by default 15) UTF-8 bytes, never
    /// splitting a character.
    static func osName(for name: String, maxBytes: Int = maximumOSNameBytes) -> String {
        var result = ""
        var bytes = 0
        for character in name {
            let size = character.utf8.count
            if bytes + size > maxBytes { break }
            result.append(character)
            bytes += size
        }
        return result
    }

    // Jobs that reach a worker after its thread exited run here, one at a time, so a serial executor's
    // guarantee still holds. Rare path: a closure per job is fine.
    private static let lateJobs = DispatchQueue(label: "AsyncWorker.late-jobs")

    private static func runLate(_ job: UnownedJob, executor: UnownedTaskExecutor?) {
        lateJobs.async {
            if let executor {
                job.runSynchronously(on: executor)
            } else {
                job.runSynchronously(on: globalConcurrentExecutor.asUnownedTaskExecutor())
            }
        }
    }
}
