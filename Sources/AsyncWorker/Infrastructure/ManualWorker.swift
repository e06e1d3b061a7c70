/// A deterministic ``Worker`` for your own tests: it runs nothing until the test says so, and then runs
/// the jobs on the test's own thread, one at a time, in the order they were queued.
///
/// In the spirit of swift-nio's `EmbeddedEventLoop`: hand it to the component under test in place of a
/// ``ThreadWorker`` — a ``Pipeline``, a ``TaskDispatcher``, your own type that takes `any Worker` — submit
/// work, then call ``runUntilIdle()``; delayed work waits on the worker's ``clock`` until the test calls
/// ``advance(by:)``. No threads, no sleeps, no timing in the test.
///
/// ```swift
/// let worker = ManualWorker()
/// let pipeline = Pipeline(Parse(), worker: worker).then(Enrich())
/// let future = pipeline.post("{…}")
/// #expect(!future.isDone)        // nothing ran yet
/// worker.runUntilIdle()          // runs the message to its end, here
/// #expect(try future.result() == expected)
/// ```
///
/// **Blocking calls throw ``AsyncWorkerError/wouldDeadlock``, from every thread.** The only thread that
/// runs the jobs is the one that asks it to, so a call that blocks waiting for them (``Dispatcher`` `execute`,
/// `runAsyncTask`-style calls through a ``TaskDispatcher``, ``Pipeline/send(_:timeout:fileID:line:)-(_,Duration?,_,_)``,
/// ``Pipeline/run(_:progressInterval:fileID:line:progress:)``, ``TaskFuture/result(timeout:fileID:line:)-(Duration?,_,_)``
/// on an unfinished future, the blocking iterators) could never end: it is refused at once, as on a
/// ``ThreadWorker``'s own thread (``isCurrentThread`` is always `true`). Drive it fire-and-forget
/// (``Worker/submit(_:fileID:line:)``, ``Dispatcher/executeAsync(_:fileID:line:)``, ``Pipeline/post(_:fileID:line:)``),
/// run it, then read the futures: ``TaskFuture/result(timeout:fileID:line:)-(Duration?,_,_)`` of a finished
/// future returns its value. ``Pipeline/post(_:fileID:line:)`` never waits for a slot here.
///
/// **Delayed work.** Code under test that sleeps on ``clock`` (inject it where the code takes
/// `some Clock<Duration>`) is resumed by ``advance(by:)``, in deadline order. A `Task.sleep` on the real
/// clocks still takes real time: its task resumes on this worker once the time has passed, at the next
/// ``runUntilIdle()`` after that.
///
/// **Other executors.** A task that awaits an actor (or anything not on this worker) continues elsewhere
/// and comes back as a new job when that work is done, possibly from another thread; ``runUntilIdle()``
/// runs only what is queued when it looks. ``waitForJobs(timeout:)`` waits for such a job to arrive.
///
/// Any thread may submit, run and advance it (it is `Sendable`); jobs run on whichever thread calls
/// ``runUntilIdle()``, one thread at a time.
public final class ManualWorker: Worker, TaskExecutor {
    /// A name for messages and reports.
    public let name: String
    /// The worker's clock: code under test sleeps on it, ``advance(by:)`` moves it.
    public let clock: ManualClock
    private let state = Locked(State())
    /// Signalled when a job is queued, for ``waitForJobs(timeout:)``.
    private let jobsArrived = ConditionLock()

    /// Creates a manual worker whose ``clock`` starts at zero. It runs nothing until ``runUntilIdle()``.
    public init(name: String = "manual") {
        self.name = name
        self.clock = ManualClock()
    }

    /// `true` between ``start()`` (or the first submission) and ``shutdown(timeout:)``.
    public var isRunning: Bool { state.withLock { $0.lifecycle == .running } }

    /// Always `true`: every thread counts as this worker's thread, because a thread that blocked waiting
    /// for its jobs would be waiting for itself to run them. So blocking calls on it throw
    /// ``AsyncWorkerError/wouldDeadlock`` at once.
    public var isCurrentThread: Bool { true }

    /// How many jobs are queued and not yet run.
    public var queuedJobCount: Int { state.withLock { $0.jobs.count } }

    /// How many submitted tasks have not finished (queued, or suspended waiting for something).
    public var pendingTaskCount: Int { state.withLock { $0.pending.count } }

    /// Marks the worker running; there is no thread to start.
    ///
    /// - Throws: ``AsyncWorkerError/shutDown`` after shutdown.
    public func start() throws {
        try state.withLock { state in
            switch state.lifecycle {
            case .stopped: throw AsyncWorkerError.shutDown
            case .notStarted, .running: state.lifecycle = .running
            }
        }
    }

    /// Queues `operation` as a task whose jobs run on this worker, and returns its future at once: it
    /// starts at the next ``runUntilIdle()``.
    ///
    /// A manual worker has no capacity limit, so a submission never waits for room. After shutdown the
    /// future is already failed with ``AsyncWorkerError/shutDown``.
    public func submit<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        _ submission: Submission
    ) -> TaskFuture<T> {
        let future = TaskFuture<T>(owner: ThreadIdentity.everyThread)
        let id: UInt64? = state.withLock { state in
            if state.lifecycle == .stopped { return nil }
            state.lifecycle = .running
            state.nextID += 1
            state.pending[state.nextID] = future
            return state.nextID
        }
        guard let id else { return TaskFuture(resolved: .failure(AsyncWorkerError.shutDown)) }
        let task = Task(executorPreference: self) { () async throws in
            let result: Result<T, any Error>
            do {
                result = .success(try await operation())
            } catch {
                result = .failure(error)
            }
            future.resolve(result)
            self.finished(id)
        }
        future.attach(task)
        return future
    }

    private func finished(_ id: UInt64) {
        state.withLock { _ = $0.pending.removeValue(forKey: id) }
    }

    // MARK: Running

    /// Runs queued jobs on the calling thread, one at a time in queue order, until none is left —
    /// including the jobs that those jobs queue. Returns how many ran.
    ///
    /// Called from inside one of this worker's jobs (re-entrantly), it runs nothing and returns 0: the
    /// outer call goes on with the queue.
    @discardableResult
    public func runUntilIdle() -> Int {
        guard
            state.withLock({ state in
                if state.isRunningJobs { return false }
                state.isRunningJobs = true
                return true
            })
        else { return 0 }
        defer { state.withLock { $0.isRunningJobs = false } }
        var count = 0
        while let job = state.withLock({ $0.jobs.isEmpty ? nil : $0.jobs.popFirst() }) {
            job.runSynchronously(on: asUnownedTaskExecutor())
            count += 1
        }
        return count
    }

    /// Moves ``clock`` forward by `duration`, resuming every sleep that is due (in deadline order), and
    /// runs until idle; repeated for sleeps that the resumed work starts within the window. Returns the
    /// number of jobs run. Zero or negative durations only run until idle.
    @discardableResult
    public func advance(by duration: Duration) -> Int {
        let target = clock.now.advanced(by: max(duration, .zero))
        var count = runUntilIdle()
        while clock.resumeNextSleeper(notAfter: target) {
            count += runUntilIdle()
        }
        clock.move(to: target)
        count += runUntilIdle()
        return count
    }

    /// Blocks the calling thread until a job is queued (one that work on another executor sends back,
    /// say) or `timeout` passes; returns whether one is queued. Pair it with ``runUntilIdle()``.
    public func waitForJobs(timeout: Duration) -> Bool {
        let deadline = Deadline.after(timeout)
        jobsArrived.lock()
        defer { jobsArrived.unlock() }
        while state.withLock({ $0.jobs.isEmpty }) {
            if !jobsArrived.wait(until: deadline) { return !state.withLock { $0.jobs.isEmpty } }
        }
        return true
    }

    /// Queues a job of a task that runs on this worker (called by the Swift runtime). Never drops a job,
    /// also after shutdown: it runs at the next ``runUntilIdle()``.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        state.withLock { $0.jobs.append(job) }
        jobsArrived.lock()
        jobsArrived.broadcast()
        jobsArrived.unlock()
    }

    // MARK: Shutdown

    /// Stops intake, runs the queued jobs to idle on the calling thread, then cancels the tasks that are
    /// still suspended (asleep on ``clock``, waiting for something that never came), resolves their
    /// futures with ``AsyncWorkerError/shutDown``, and runs their unwinding to idle.
    ///
    /// `timeout` is not needed (nothing runs in the background) and is ignored. Called from inside one of
    /// this worker's jobs, it abandons what is pending without running anything. Calling it again returns
    /// a report marked ``ShutdownReport/wasAlreadyShutDown``.
    @discardableResult
    public func shutdown(timeout: Duration?) -> ShutdownReport {
        let (alreadyDone, pendingAtStart) = state.withLock { state in
            defer { state.lifecycle = .stopped }
            return (state.lifecycle == .stopped, state.pending.count)
        }
        if alreadyDone {
            return ShutdownReport(drainedTasks: 0, abandonedTasks: 0, threadExited: true, wasAlreadyShutDown: true)
        }
        runUntilIdle()
        let leftover = state.withLock { state in
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        var abandoned = 0
        for future in leftover where future.abandon() {
            abandoned += 1
        }
        runUntilIdle()
        clock.cancelAllSleepers()
        runUntilIdle()
        return ShutdownReport(drainedTasks: pendingAtStart - abandoned, abandonedTasks: abandoned, threadExited: true)
    }
}

extension ManualWorker {
    private enum Lifecycle {
        case notStarted, running, stopped
    }

    private struct State {
        var lifecycle = Lifecycle.notStarted
        var jobs = FIFO<UnownedJob>()
        var isRunningJobs = false
        var nextID: UInt64 = 0
        /// The futures of the tasks not finished yet, by submission number.
        var pending: [UInt64: any AbandonableFuture] = [:]
    }
}

extension ThreadIdentity {
    /// The owner of a ``ManualWorker``'s futures: every thread counts as it, so a blocking wait on an
    /// unfinished one throws ``AsyncWorkerError/wouldDeadlock`` (never claimed by a thread).
    @usableFromInline static let everyThread = ThreadIdentity()
}
