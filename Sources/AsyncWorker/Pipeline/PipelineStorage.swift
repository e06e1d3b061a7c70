/// The lock behind a ``Pipeline``: guards its ``PipelineStateMachine``, puts callers to sleep while
/// every slot is taken or while shutdown drains, and acts on the machine's decisions (tells subscribers,
/// feeds the monitor, abandons futures) after releasing the lock.
///
/// A `ConditionLock` rather than `Mutex`: callers must sleep until a slot frees, which needs a
/// condition variable. It spins when contended: the caller and the worker take it in turn four times per
/// message (admit, attach, settle, release), and a plain mutex put one of them to sleep in the kernel so
/// often that `post` ran at ~70 k messages/s; spinning first gave 103–128 k/s in the same runs.
@usableFromInline
final class PipelineStorage<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    // @unchecked: `machine` is read and written only while `lock` is held.
    @usableFromInline let lock = ConditionLock(spinsWhenContended: true)
    // Unchecked exclusivity: `lock` serialises every access (a dynamic check costs a TLS lookup per access).
    @exclusivity(unchecked) @usableFromInline var machine: PipelineStateMachine<Input, Output>  // protected by `lock`
    @usableFromInline let monitor: PipelineMonitor
    @usableFromInline let domainNames: [String]
    private let shutdownOnce = ShutdownOnce<PipelineShutdownReport>()
    /// Test hooks, called with no lock held when a caller is about to wait for a slot, and when shutdown
    /// is about to wait for the drain. Set only by tests, before the pipeline is used.
    private let hooks = Locked(TestHooks())

    private struct TestHooks {
        var slotWait: (@Sendable () -> Void)?
        var drainWait: (@Sendable () -> Void)?
    }

    init(maxInFlight: Int, monitor: PipelineMonitor) {
        self.machine = PipelineStateMachine(maxInFlight: maxInFlight)
        self.monitor = monitor
        self.domainNames = monitor.domainNames
    }

    // MARK: Subscribers

    func addOutputHandler(_ handler: @escaping @Sendable (Output) -> Void) {
        lock.withLock { machine.addOutputHandler(handler) }
    }

    func addFailureHandler(_ handler: @escaping @Sendable (PipelineFailure<Input>) -> Void) {
        lock.withLock { machine.addFailureHandler(handler) }
    }

    // MARK: A message's life

    /// Takes a slot for `input`, sleeping while every slot is taken, until `deadline`. Returns the
    /// message's id; fails with ``AsyncWorkerError/shutDown`` once shutdown began (a sleeping caller is
    /// woken for it) or ``AsyncWorkerError/timedOut`` if the deadline passed first.
    @inlinable
    func admit(_ input: Input, ignoringLimit: Bool, until deadline: Deadline) -> Result<UInt64, AsyncWorkerError> {
        var hasAnnounced = false
        lock.lock()
        while true {
            switch machine.admit(input, ignoringLimit: ignoringLimit) {
            case .admitted(let id):
                lock.unlock()
                return .success(id)
            case .refused(let error):
                lock.unlock()
                return .failure(error)
            case .mustWait:
                if deadline.hasPassed {
                    lock.unlock()
                    return .failure(.timedOut)
                }
                if !hasAnnounced {
                    hasAnnounced = true
                    lock.unlock()
                    announceSlotWait()
                    lock.lock()
                    continue
                }
                machine.slotWaitBegan()
                lock.wait(until: deadline)
                machine.slotWaitEnded()
            }
        }
    }

    /// Connects message `id` to its future. If shutdown got to the message first, resolves the future
    /// at once: abandoned, or with the outcome the message was settled with.
    @inlinable
    func attach(_ future: TaskFuture<Output>, to id: UInt64) {
        switch lock.withLock({ machine.attach(future, to: id) }) {
        case .none: break
        case .abandon: _ = future.abandon()
        case .resolve(let outcome): future.resolve(outcome)
        }
    }

    /// Settles message `id` with `result`, unless it is settled already: counts the run in the monitor,
    /// then tells the subscribers, on the calling thread, with no lock held. Returns whether this call
    /// settled the message (`false`: shutdown abandoned it first, or it was settled before).
    @inlinable
    @discardableResult
    func settle(_ id: UInt64, _ result: Result<Output, any Error>, failedStage: Int?) -> Bool {
        guard let settlement = lock.withLock({ machine.settle(id, result) }) else { return false }
        announce(settlement, result, failedStage: failedStage)
        return true
    }

    /// Ends message `id` once its future is resolved with `result`: settles it if nothing did (its task
    /// never ran), lets `tracker` count it, then frees its slot. When the task settled it and no tracker
    /// counts it (the common case), that is one lock acquisition.
    @inlinable
    func finish(_ id: UInt64, _ result: Result<Output, any Error>, tracker: RunTracker?) {
        lock.lock()
        let settlement = machine.settle(id, result)
        if settlement == nil && tracker == nil {
            let mustWake = machine.release(id)
            lock.unlock()
            if mustWake { lock.broadcast() }
            return
        }
        lock.unlock()
        if let settlement { announce(settlement, result, failedStage: nil) }
        if let tracker {
            let failure: (any Error)? = if case .failure(let error) = result { error } else { nil }
            tracker.record(failure: failure)
        }
        release(id)
        tracker?.noteReleased()
    }

    /// Counts a settled message in the monitor and tells the subscribers, on the calling thread, with no
    /// lock held.
    @inlinable
    func announce(
        _ settlement: PipelineStateMachine<Input, Output>.Settlement,
        _ result: Result<Output, any Error>,
        failedStage: Int?
    ) {
        switch result {
        case .success(let output):
            monitor.recordRun(succeeded: true)
            for handler in settlement.outputHandlers { handler(output) }
        case .failure(let error):
            monitor.recordRun(succeeded: false)
            let failure = PipelineFailure(
                input: settlement.input,
                error: error,
                domain: failedStage.map { domainNames[$0] },
                domainIndex: failedStage
            )
            for handler in settlement.failureHandlers { handler(failure) }
        }
    }

    /// Frees the slot of message `id`, whose future is resolved, waking whoever waits for one.
    @inlinable
    func release(_ id: UInt64) {
        let mustWake = lock.withLock { machine.release(id) }
        // Broadcast: slot waiters and the drain share the condition, and a signal could wake the wrong one.
        if mustWake { lock.broadcast() }
    }

    var inFlightCount: Int { lock.withLock { machine.inFlight } }

    var isOpen: Bool { lock.withLock { machine.isOpen } }

    /// Runs the slot-wait test hook, if any (no lock held).
    @usableFromInline
    func announceSlotWait() {
        hooks.withLock { $0.slotWait }?()
    }

    /// Test hook: `hook` runs (outside the lock) whenever a caller is about to sleep for a slot.
    func setSlotWaitHook(_ hook: (@Sendable () -> Void)?) {
        hooks.withLock { $0.slotWait = hook }
    }

    /// Test hook: `hook` runs (outside the lock) when shutdown, intake closed, is about to wait for the
    /// in-flight messages.
    func setDrainWaitHook(_ hook: (@Sendable () -> Void)?) {
        hooks.withLock { $0.drainWait = hook }
    }

    // MARK: Shutdown

    /// Closes intake, waits until every in-flight message is resolved or `timeout` passes (not at all on
    /// the worker's own thread, which the messages need), then abandons the rest. See
    /// ``Pipeline/shutdown(timeout:)``; once-only and re-entrancy as ``ShutdownOnce`` gives them.
    func shutdown(timeout: Duration?, onWorkerThread: Bool) -> PipelineShutdownReport {
        let waitDeadline = Deadline.after(timeout).adding(.seconds(1))
        return shutdownOnce.report(waitingUntil: waitDeadline, mayWait: !onWorkerThread) {
            performShutdown(timeout: timeout, onWorkerThread: onWorkerThread)
        }
    }

    private func performShutdown(timeout: Duration?, onWorkerThread: Bool) -> PipelineShutdownReport {
        let pending = lock.withLock { machine.beginShutdown() }
        // Wake callers sleeping for a slot: intake is closed, they get `.shutDown`.
        lock.broadcast()
        if !onWorkerThread {
            waitUntilDrained(until: Deadline.after(timeout))
        }
        let abandonment = lock.withLock { machine.abandonAll() }
        for message in abandonment.abandoned {
            monitor.recordRun(succeeded: false)
            let failure = PipelineFailure(
                input: message.input,
                error: AsyncWorkerError.shutDown,
                domain: nil,
                domainIndex: nil
            )
            for handler in abandonment.failureHandlers { handler(failure) }
            // Resolves the future (its completion handler frees the slot) and cancels the task.
            _ = message.future?.abandon()
        }
        // Settled, but their task has not returned yet (a subscriber still runs, say): resolve them
        // now with the same outcome, so no future is left pending.
        for (future, outcome) in abandonment.settled {
            future.resolve(outcome)
        }
        lock.withLock { machine.finishShutdown() }
        let abandoned = abandonment.abandoned.count
        return PipelineShutdownReport(
            drainedMessages: pending - abandoned,
            abandonedMessages: abandoned,
            wasAlreadyShutDown: false
        )
    }

    private func waitUntilDrained(until deadline: Deadline) {
        hooks.withLock { $0.drainWait }?()
        lock.lock()
        var inFlight = machine.drainWaitBegan()
        while inFlight {
            if !lock.wait(until: deadline), deadline.hasPassed { break }
            inFlight = machine.inFlight > 0
        }
        machine.drainWaitEnded()
        lock.unlock()
    }
}
