import Synchronization

/// A worker that owns one dedicated thread, which is a serial executor hosting Swift tasks.
///
/// Every operation submitted to it starts as a task whose executor preference is this worker, so the
/// operation, the non-isolated async functions it calls and its child tasks (`async let`, task groups) all
/// run on the worker's thread, one job at a time. Task-local values bound by the submitting code are
/// visible in the operation. Code isolated to an actor (`@MainActor`, say) still runs on that actor.
///
/// Operations start in submission order; because they interleave at every `await`, they may finish in
/// any order.
///
/// ```swift
/// let worker = ThreadWorker(name: "db-bridge")
/// let dispatcher = TaskDispatcher(worker: worker)
/// let rows = try dispatcher.execute({ try await db.query("…") }, timeout: .seconds(2))
/// worker.shutdown(timeout: .seconds(1))
/// ```
///
/// The worker can also serve as the serial executor of your own actor
/// (`nonisolated var unownedExecutor: UnownedSerialExecutor { worker.asUnownedSerialExecutor() }`);
/// keep the worker alive as long as the actor.
///
/// - Important: The thread's OS name is `name` cut, at a character boundary, to the UTF-8 bytes the OS
///   keeps: 15 on Linux, 63 on Darwin; ``name`` keeps the full name.
public final class ThreadWorker: Worker, SerialExecutor, TaskExecutor {
    /// The name given at creation (the thread's OS name is its first 15 bytes on Linux, 63 on Darwin).
    public let name: String
    @usableFromInline let thread: ExecutorThread
    @usableFromInline let registry: PendingRegistry
    @usableFromInline let counters = WorkerCounters()
    private let lifecycle = Locked(Lifecycle.notStarted)
    private let shutdownOnce = ShutdownOnce<ShutdownReport>()
    /// The stall detector, while one is on (see ``onStall(threshold:perform:)``).
    private let stallMonitor = Locked<StallMonitor?>(nil)
    /// Mirrors `lifecycle == .running`, so the submit path skips the mutex while the worker runs.
    @usableFromInline let runningFlag = Atomic<Bool>(false)
    /// Whether a blocking caller may run its task's first job itself while the worker is idle (see
    /// ``init(name:maxPendingTasks:callerRunsWhenIdle:)``).
    public let callerRunsWhenIdle: Bool
    /// The worker whose next job the calling thread asks to run itself: set by a blocking submission
    /// (with ``callerRunsWhenIdle``) around the creation of its task, taken by ``enqueue(_:)``.
    private static let inlineRequest = ThreadLocal<ExecutorThread>()

    /// How long shutdown waits, after the drain deadline, for cancelled tasks to unwind and the thread to
    /// exit before it reports the thread as still busy.
    static let joinGracePeriod: Duration = .seconds(1)

    /// The default for ``init(name:maxPendingTasks:callerRunsWhenIdle:)``: 16,384 pending tasks. A
    /// pending task with its future costs about 1.5 KiB (measured), so a producer that outruns the worker
    /// holds about 25 MiB.
    public static let defaultMaxPendingTasks = 16_384

    /// Creates a worker; its thread starts on ``start()`` or on the first submission.
    /// - Parameters:
    ///   - name: The thread's name; Linux keeps its first 15 UTF-8 bytes, Darwin 63.
    ///   - maxPendingTasks: How many submitted tasks may be pending (not yet finished) at once. At the
    ///     limit, ``submit(_:_:)`` — and so every blocking or fire-and-forget call — waits until an eighth
    ///     of them have finished before it starts another: a producer that outruns the worker is held
    ///     back instead of growing memory without bound. Submissions from the worker's own thread never
    ///     wait. Values below 1 count as 1.
    ///   - callerRunsWhenIdle: Lets a blocking call (``TaskDispatcher/execute(_:timeout:_:)`` and the
    ///     `execute` forms built on it) run its task's first job on the calling thread when the worker's
    ///     thread is idle, the way Swift actors run on whichever thread calls them: no hand-off, no
    ///     wake-up, and an operation that does not suspend runs start to finish on the caller (a round
    ///     trip close to the cost of creating the task). Serial execution is kept: while the caller
    ///     runs the job the worker's thread runs nothing, isolation checks pass, and a blocking call on
    ///     this worker from inside throws ``AsyncWorkerError/wouldDeadlock``. What it gives up: the
    ///     operation is not always on the worker's thread (`Thread.current`, thread-local state and
    ///     thread-affine C libraries see the caller's thread), the timeout cannot end the wait during
    ///     that first job (a synchronous stretch of it runs to its first suspension), and stall
    ///     detection does not see the job. Jobs after the first suspension run on the worker's thread.
    ///     Fire-and-forget submissions never run on the caller. `false` (the default) keeps strict
    ///     thread affinity.
    public init(
        name: String,
        maxPendingTasks: Int = ThreadWorker.defaultMaxPendingTasks,
        callerRunsWhenIdle: Bool = false
    ) {
        self.name = name
        self.callerRunsWhenIdle = callerRunsWhenIdle
        self.thread = ExecutorThread(name: name)
        self.registry = PendingRegistry(capacity: maxPendingTasks)
    }

    deinit {
        // No task refers to the worker any more (each task retains it), so nothing is pending: let the
        // thread exit, and detach it so the OS reclaims it (its stack) when it does. Not joined: deinit
        // may run on the thread itself.
        stopStallDetection()
        thread.requestStop()
        thread.detach()
    }

    /// `true` between a successful ``start()`` and ``shutdown(timeout:)``.
    public var isRunning: Bool { runningFlag.load(ordering: .acquiring) }

    /// `true` when called on this worker's thread, where blocking on the worker would deadlock.
    public var isCurrentThread: Bool { thread.isCurrent }

    /// Starts the thread and returns once it is running and named. Starting a running worker does nothing.
    ///
    /// - Throws: ``AsyncWorkerError/shutDown`` after shutdown (a worker is never restarted);
    ///   ``AsyncWorkerError/threadStartFailed(errno:)`` if the OS refuses a thread.
    public func start() throws {
        if runningFlag.load(ordering: .acquiring) { return }
        try lifecycle.withLock { (state) throws in
            switch state {
            case .running:
                return
            case .stopped:
                throw AsyncWorkerError.shutDown
            case .notStarted:
                try thread.start(executor: asUnownedTaskExecutor())
                state = .running
                runningFlag.store(true, ordering: .releasing)
            }
        }
    }

    /// Starts `operation` as a task on the worker's thread and returns its future, starting the worker if
    /// needed (the ``Worker`` requirement; callers write ``Worker/submit(_:fileID:line:)``).
    ///
    /// Returns at once unless `maxPendingTasks` tasks are pending: then it first waits until an eighth of
    /// them have finished (never on the worker's own thread), at most until the submission's room deadline;
    /// past it the future is already failed with ``AsyncWorkerError/timedOut`` and nothing was started.
    /// The future is already failed with ``AsyncWorkerError/shutDown`` if the worker is shut down (or
    /// with ``AsyncWorkerError/threadStartFailed(errno:)`` if its thread could not start). While stall
    /// detection is on, the task carries the submission's site (see ``onStall(threshold:perform:)``).
    @inlinable
    public func submit<T: Sendable>(
        _ operation: sending @escaping () async throws -> T,
        _ submission: Submission
    ) -> TaskFuture<T> {
        let onOwnThread = thread.identity.isCurrent
        let (future, admitted) = admit(T.self, submission, onOwnThread: onOwnThread)
        guard let slot = admitted else { return future }
        let (registry, counters, submittedAt) = (self.registry, self.counters, Deadline.now.nanoseconds)
        let placement = placement(of: submission, onOwnThread: onOwnThread)
        if placement.runsHere { requestInlineRun() }
        // A literal closure rather than a closure value: one converted to the `Task` initialiser's
        // parameter type costs an extra reabstraction thunk per task (seen in a profile). It `throws` (the
        // task a `Task<Void, any Error>`) for the same reason: the runtime takes a throwing closure, and a
        // `Task<_, Never>` wraps a non-throwing one in a thunk (one more allocation per task, measured).
        let task = Task(executorPreference: placement.executor) { () async throws in
            await Self.run(operation, future, registry, slot, counters, submittedAt)
        }
        if placement.runsHere { withdrawInlineRequest() }
        future.attach(task)
        return future
    }

    /// ``submit(_:_:)`` for one of the library's own operations (a pipeline message), given as a value
    /// rather than a closure: the task calls its `nonisolated(nonsending)` method directly, where a
    /// closure would be one more async frame and two more executor switches per task (measured through a
    /// pipeline of four domains: 13.6 k → 12.4 k instructions, 5 → 3 switches, one allocation fewer).
    @inlinable
    func submit<Operation: WorkerOperation>(
        operation: Operation,
        _ submission: Submission
    ) -> TaskFuture<Operation.Value> {
        let onOwnThread = thread.identity.isCurrent
        let (future, admitted) = admit(Operation.Value.self, submission, onOwnThread: onOwnThread)
        guard let slot = admitted else { return future }
        let (registry, counters, submittedAt) = (self.registry, self.counters, Deadline.now.nanoseconds)
        let placement = placement(of: submission, onOwnThread: onOwnThread)
        if placement.runsHere { requestInlineRun() }
        let task = Task(executorPreference: placement.executor) { () async throws in
            await Self.run(operation: operation, future, registry, slot, counters, submittedAt)
        }
        if placement.runsHere { withdrawInlineRequest() }
        future.attach(task)
        return future
    }

    /// A submission's admission: starts the worker if needed, makes the future and takes a registry slot,
    /// waiting for room as ``submit(_:_:)`` says. Refused, the slot is `nil` and the future already failed.
    @inlinable
    func admit<T: Sendable>(
        _: T.Type,
        _ submission: Submission,
        onOwnThread: Bool
    ) -> (future: TaskFuture<T>, slot: Int?) {
        if !runningFlag.load(ordering: .acquiring) {
            do {
                try start()
            } catch {
                counters.recordRejection()
                return (TaskFuture(resolved: .failure(error)), nil)
            }
        }
        let future = TaskFuture<T>(owner: thread.identity)
        switch registry.register(future, mayWait: !onOwnThread, until: submission.roomDeadline) {
        case .success(let slot):
            return (future, slot)
        case .failure(let error):
            if error == .timedOut { counters.recordTimeout() } else { counters.recordRejection() }
            return (TaskFuture(resolved: .failure(error)), nil)
        }
    }

    /// Where a submission's task runs: while stall detection is on, on an executor that tags its jobs
    /// with the submission's site; otherwise on the worker itself, and with ``callerRunsWhenIdle`` a
    /// blocking caller's first job may run right here, inside the task's creation (see `enqueue`).
    @inlinable
    func placement(of submission: Submission, onOwnThread: Bool) -> (executor: any TaskExecutor, runsHere: Bool) {
        if thread.stamps.isStampingJobs.load(ordering: .relaxed) && SiteTaggedExecutor.namesSite(submission.fileID) {
            return (SiteTaggedExecutor(worker: self, fileID: submission.fileID, line: submission.line), false)
        }
        return (self, callerRunsWhenIdle && submission.waitsForResult && !onOwnThread)
    }

    /// Asks ``enqueue(_:)`` to run the next job on the calling thread (see ``callerRunsWhenIdle``).
    @usableFromInline
    func requestInlineRun() {
        Self.inlineRequest.currentValue = thread
    }

    /// Withdraws a request ``enqueue(_:)`` did not take.
    @usableFromInline
    func withdrawInlineRequest() {
        Self.inlineRequest.currentValue = nil
    }

    /// The body of every submitted task: records its start, runs the operation, resolves the future and
    /// counts the outcome. `nonisolated(nonsending)`: it runs where the task's closure runs, with no
    /// executor check on entry (see ``PipelineStages/run``).
    @inlinable
    nonisolated(nonsending) static func run<T: Sendable>(
        _ operation: () async throws -> T,
        _ future: TaskFuture<T>,
        _ registry: PendingRegistry,
        _ slot: Int,
        _ counters: WorkerCounters,
        _ submittedAt: UInt64
    ) async {
        counters.recordStart(submittedAt: submittedAt)
        let result: Result<T, any Error>
        do {
            result = .success(try await operation())
        } catch {
            result = .failure(error)
        }
        finish(future, result, registry, slot)
    }

    /// ``run(_:_:_:_:_:_:)`` for an operation value (the call differs: a method, not a closure). A user's
    /// closure is not wrapped in an operation value to share this path: a closure stored in a generic
    /// struct is called through a reabstraction, one more async frame and +0.2 k instructions per
    /// fire-and-forget task (measured: 8.26 k → 8.46 k), so the two bodies stay side by side.
    @inlinable
    nonisolated(nonsending) static func run<Operation: WorkerOperation>(
        operation: Operation,
        _ future: TaskFuture<Operation.Value>,
        _ registry: PendingRegistry,
        _ slot: Int,
        _ counters: WorkerCounters,
        _ submittedAt: UInt64
    ) async {
        counters.recordStart(submittedAt: submittedAt)
        let result: Result<Operation.Value, any Error>
        do {
            result = .success(try await operation.call())
        } catch {
            result = .failure(error)
        }
        finish(future, result, registry, slot)
    }

    /// A task's end: resolves its future and frees its registry slot, counting the outcome.
    @inlinable
    static func finish<T: Sendable>(
        _ future: TaskFuture<T>,
        _ result: Result<T, any Error>,
        _ registry: PendingRegistry,
        _ slot: Int
    ) {
        let task = future.resolveTakingTask(result) ?? nil
        let failed = if case .failure = result { true } else { false }
        registry.unregister(slot: slot, future, retiring: task, failed: failed, cancelled: Task.isCancelled)
    }

    // MARK: Metrics and stall detection

    /// A snapshot of the worker's counters: tasks submitted, completed, failed, cancelled and in flight,
    /// jobs queued, submission-to-start latency percentiles, timeouts, rejections, backpressure waits
    /// and stalls. See ``WorkerMetrics``.
    ///
    /// Cheap enough to call often (a few locks and one pass over a 656-bucket histogram); the counting
    /// behind it is always on and costs the worker a clock read per submission and per task start.
    public func metrics() -> WorkerMetrics {
        let (totals, pending) = registry.readTotals()
        return WorkerMetrics(
            name: name,
            submitted: totals.submitted,
            completed: totals.completed,
            failed: totals.failed,
            cancelled: totals.cancelled,
            inFlight: pending,
            queueDepth: thread.queueDepth,
            timedOut: counters.timedOut.load(ordering: .relaxed),
            rejected: counters.rejected.load(ordering: .relaxed),
            throttled: totals.throttled,
            stalls: counters.stalls.load(ordering: .relaxed),
            startLatency: LatencySummary(counters.startLatency.summary())
        )
    }

    /// Turns on stall detection: `handler` is called when a job holds the worker's thread longer than
    /// `threshold`, with the submission site (`#fileID`, `#line`) of the task the job belongs to.
    ///
    /// ```swift
    /// worker.onStall(threshold: .milliseconds(200)) { report in
    ///     logger.warning("\(report)")   // "… task submitted at App/Sync.swift:42 has held the thread for 212ms …"
    /// }
    /// ```
    ///
    /// A job stalls the worker when it blocks (a semaphore wait, `sleep`, synchronous I/O) or computes
    /// for long without an `await`: every other task on the worker waits behind it. Each such job is
    /// reported once, from a private dispatch queue (keep `handler` short), between `threshold` and
    /// 1.25 × `threshold` after it started. Jobs of child tasks report their parent's site.
    ///
    /// Calling it again replaces the handler and threshold; `nil` turns detection off. Shutdown turns
    /// it off. Tasks submitted while detection is off carry no site (their stalls report `site: nil`).
    ///
    /// - Cost: while on, each submitted task gets a small executor object that carries its site
    ///   (one allocation), each job a clock read, and the worker is sampled four times per threshold.
    ///   Off (the default), none of this runs.
    /// - Parameters:
    ///   - threshold: How long a job may hold the thread; at least 1 ms (shorter values are raised).
    ///   - handler: Called once per stalled job, or `nil` to turn detection off.
    public func onStall(
        threshold: Duration = .milliseconds(100),
        perform handler: (@Sendable (StallReport) -> Void)?
    ) {
        stallMonitor.withLock { current in
            current?.stop()
            current = nil
            // A shut-down worker runs nothing more: nothing to watch.
            guard let handler, !isShutDownOrShuttingDown else { return }
            let monitor = StallMonitor(
                threshold: threshold,
                workerName: name,
                thread: thread,
                registry: registry,
                counters: counters,
                handler: handler
            )
            monitor.start()
            current = monitor
        }
    }

    private var isShutDownOrShuttingDown: Bool {
        lifecycle.withLock { $0 == .stopped }
    }

    private func stopStallDetection() {
        stallMonitor.withLock { current in
            current?.stop()
            current = nil
        }
    }

    /// Stops the worker: refuses new work, lets pending tasks finish until `timeout`, then cancels the
    /// rest and resolves their futures with ``AsyncWorkerError/shutDown``, and joins the thread.
    ///
    /// When it returns, every future this worker handed out is resolved. It returns within `timeout`
    /// plus a grace period of one second even if a task ignores cancellation and holds the thread; the
    /// report then says the thread is still busy (it exits when that job returns).
    ///
    /// Safe from any thread and any handler:
    /// - Called again after it finished, it returns the first call's report (marked
    ///   ``ShutdownReport/wasAlreadyShutDown``).
    /// - Called while another shutdown runs, it waits for that one, within its own `timeout` plus the
    ///   grace period at most.
    /// - Called from the worker's own thread, it does not wait (the thread cannot wait for itself):
    ///   pending tasks are abandoned at once and the thread exits after the current job.
    /// - Called from a handler that the shutdown itself runs (an abandoned future's ``TaskFuture/onComplete(_:)``,
    ///   say), it returns at once: that shutdown is its caller.
    ///
    /// A call that returns while another is still in progress reports no drained or abandoned tasks,
    /// `threadExited == false` and ``ShutdownReport/wasAlreadyShutDown``.
    ///
    /// - Parameter timeout: How long pending tasks may run on; `nil` lets them take as long as they need.
    /// - Returns: What happened, see ``ShutdownReport``.
    @discardableResult
    public func shutdown(timeout: Duration?) -> ShutdownReport {
        let onOwnThread = thread.identity.isCurrent
        let waitDeadline = Deadline.after(timeout).adding(Self.joinGracePeriod)
        return shutdownOnce.report(waitingUntil: waitDeadline, mayWait: !onOwnThread) {
            performShutdown(timeout: onOwnThread ? .zero : timeout, onOwnThread: onOwnThread)
        }
    }

    private func performShutdown(timeout: Duration?, onOwnThread: Bool) -> ShutdownReport {
        let wasRunning = lifecycle.withLock { state in
            defer { state = .stopped }
            return state == .running
        }
        runningFlag.store(false, ordering: .releasing)
        guard wasRunning else {
            _ = registry.close()
            thread.requestStop()
            stopStallDetection()
            return ShutdownReport(drainedTasks: 0, abandonedTasks: 0, threadExited: true)
        }
        let pendingAtStart = registry.close()
        if !onOwnThread {
            _ = registry.waitUntilEmpty(until: Deadline.after(timeout))
        }
        var abandoned = 0
        for future in registry.removeAll() where future.abandon() {
            abandoned += 1
        }
        registry.recordAbandoned(abandoned)
        thread.requestStop()
        let threadExited: Bool
        if onOwnThread {
            thread.detach()
            threadExited = false
        } else {
            threadExited = thread.join(until: Deadline.after(Self.joinGracePeriod))
        }
        // Watched until here: a job that holds the thread through the drain is still reported.
        stopStallDetection()
        return ShutdownReport(
            drainedTasks: pendingAtStart - abandoned,
            abandonedTasks: abandoned,
            threadExited: threadExited
        )
    }

    // MARK: Executor conformance

    /// Queues a job of a task that runs on this worker. Called by the Swift runtime; never drops a job,
    /// whatever the worker's state (jobs arriving after shutdown run on a serial fallback queue).
    ///
    /// A worker that was never started starts here: an actor whose executor is this worker works from its
    /// first call. If the thread cannot start, the job runs on the fallback queue.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if callerRunsWhenIdle, let requested = Self.inlineRequest.currentValue, requested === thread {
            // The first job of a task a blocking caller is creating: run it here if the thread is idle.
            Self.inlineRequest.currentValue = nil
            if thread.runInline(job) { return }
        }
        if !runningFlag.load(ordering: .acquiring) {
            do {
                try start()
            } catch AsyncWorkerError.shutDown {
                // Shut down: the thread has exited or is stopping; it runs the job or hands it on.
            } catch {
                thread.runElsewhere(job)
                return
            }
        }
        thread.enqueue(job)
    }

    /// Whether the current code runs on this worker's thread, or (after shutdown) on the fallback queue
    /// running one of its late jobs: the runtime asks this for `assumeIsolated` and isolation checks.
    public func isIsolatingCurrentContext() -> Bool? {
        thread.isCurrent
    }

    public func checkIsolated() {
        precondition(
            thread.isCurrent,
            "Expected to run on the thread of ThreadWorker '\(name)', but running elsewhere."
        )
    }
}

extension ThreadWorker: TimeoutCounting {
    @usableFromInline
    func recordTimeout() {
        counters.recordTimeout()
    }
}

extension ThreadWorker {
    private enum Lifecycle {
        case notStarted
        case running
        /// Shutdown has begun (or finished): never started again.
        case stopped
    }
}

/// One of the library's own operations that a worker's task runs (a pipeline message): a value whose
/// `nonisolated(nonsending)` method the task calls directly (see ``ThreadWorker/submit(operation:_:)``).
@usableFromInline
protocol WorkerOperation: Sendable {
    associatedtype Value: Sendable
    nonisolated(nonsending) func call() async throws -> Value
}
