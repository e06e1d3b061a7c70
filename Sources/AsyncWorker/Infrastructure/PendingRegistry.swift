/// The futures a worker has handed out and not yet resolved: what shutdown waits for, and what it
/// resolves with ``AsyncWorkerError/shutDown`` when the drain period ends.
///
/// A slab (an array of slots plus a free list) makes registering and unregistering O(1) without hashing;
/// each task remembers its slot. Once closed, the registry accepts nothing more.
///
/// It also bounds memory: with `capacity` futures pending, a submitter sleeps until one resolves
/// (backpressure), so a producer that outruns the worker cannot queue tasks without limit.
///
/// It keeps the worker's task counters too (``Totals``): under the lock it takes anyway, they cost
/// nothing more.
///
/// **Where finished tasks are freed.** A task and its first allocator slab are allocated by the
/// submitting thread. Dropped on the worker's thread, glibc's allocator frees them into the worker's
/// per-thread cache until it is full and then into the submitter's arena under its lock, while the
/// submitter, whose own cache stays empty, takes that same lock for every allocation: each task paid the
/// allocator's slow path twice, and a collision put a thread to sleep (see `Benchmarks/RESULTS.md`). So
/// the worker does not drop a finished task's handle: `unregister` retires it, and a later `register`
/// hands every ``retiredBatch`` retired handles to its caller to drop, outside the lock. The memory goes
/// back to a submitting thread's cache, where its next submissions find it. Only task handles wait
/// there (a finished task holds no user value); futures, which hold results, are never kept back.
@usableFromInline
final class PendingRegistry: @unchecked Sendable {
    // @unchecked: every `var` below is read and written only while `lock` is held, except `releasing`,
    // which only the thread that set `isReleasingRetired` (under the lock) empties, outside it.
    /// Adaptive: a submitter and the worker take it in turn for every task (see ``ConditionLock/init(spinsWhenContended:)``).
    private let lock = ConditionLock(spinsWhenContended: true)
    /// The most futures pending at once before submitters wait.
    let capacity: Int
    /// Waiting submitters are woken when the count falls to this (7/8 of `capacity`), all at once:
    /// waking them on every completion made each completion a futex wake-up, and with 8 submitters a
    /// thundering herd (8-caller fire-and-forget fell to 0.32x the 1-caller rate).
    let lowWaterMark: Int
    // Unchecked exclusivity below: `lock` serialises every access (a dynamic check per access cost
    // ~100 instructions and a TLS lookup, several per task).
    @exclusivity(unchecked) private var waitingSubmitters = 0
    @exclusivity(unchecked) private var slots: [(any AbandonableFuture)?] = []
    @exclusivity(unchecked) private var freeSlots: [Int] = []
    @exclusivity(unchecked) private var count = 0
    @exclusivity(unchecked) private var isClosed = false
    @exclusivity(unchecked) private var isDrainAwaited = false
    @exclusivity(unchecked) private var totals = Totals()
    /// Handles of finished tasks, waiting for a submitting thread to drop them.
    @exclusivity(unchecked) private var retired: [Task<Void, any Error>] = []
    /// The batch a submitting thread is dropping: touched outside the lock only by that thread, while
    /// `isReleasingRetired` is set (under the lock).
    @exclusivity(unchecked) private var releasing: [Task<Void, any Error>] = []
    @exclusivity(unchecked) private var isReleasingRetired = false

    /// How many retired tasks a submitting thread drops at once: about glibc's per-thread cache of 7
    /// chunks per size, so the next submissions take them from the cache.
    static let retiredBatch = 8

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        self.lowWaterMark = self.capacity - max(1, self.capacity / 8)
        retired.reserveCapacity(2 * Self.retiredBatch)
        releasing.reserveCapacity(2 * Self.retiredBatch)
    }

    /// Records `future` and returns its slot; fails with ``AsyncWorkerError/shutDown`` if the registry is
    /// closed (the worker is shutting down) or ``AsyncWorkerError/timedOut`` if it was full until
    /// `deadline`. While `capacity` futures are pending it first waits for room, unless `mayWait` is false
    /// (a submission from the worker's own thread, which is the thread that would resolve them). The wait
    /// follows the main-thread waiting policy (see ``ConditionLock/wait(until:)``).
    @usableFromInline
    func register(
        _ future: any AbandonableFuture,
        mayWait: Bool,
        until deadline: Deadline
    ) -> Result<Int, AsyncWorkerError> {
        lock.lock()
        defer { lock.unlock() }
        if mayWait && count >= capacity && !isClosed { totals.throttled += 1 }
        while mayWait && count >= capacity && !isClosed {
            if deadline.hasPassed { return .failure(.timedOut) }
            waitingSubmitters += 1
            lock.wait(until: deadline)
            waitingSubmitters -= 1
        }
        guard !isClosed else { return .failure(.shutDown) }
        count += 1
        totals.submitted += 1
        let mustRelease = retired.count >= Self.retiredBatch && !isReleasingRetired
        if mustRelease {
            swap(&retired, &releasing)
            isReleasingRetired = true
        } else if retired.count >= 8 * Self.retiredBatch {
            // The thread dropping a batch is held up (descheduled, say): drop these here, under the lock,
            // rather than let finished tasks pile up.
            retired.removeAll(keepingCapacity: true)
        }
        let slot: Int
        if let free = freeSlots.popLast() {
            slots[free] = future
            slot = free
        } else {
            slots.append(future)
            slot = slots.count - 1
        }
        if mustRelease { releaseRetired() }
        return .success(slot)
    }

    /// Drops the batch of retired tasks this thread took, with the lock released. Called and returns
    /// with the lock held.
    private func releaseRetired() {
        lock.unlock()
        releasing.removeAll(keepingCapacity: true)
        lock.lock()
        isReleasingRetired = false
    }

    /// Forgets `future`, if it still holds `slot` (shutdown may have taken it already), and counts how
    /// its task ended. `task`, the finished task's handle, is retired: a later `register` drops it (see
    /// "Where finished tasks are freed").
    @usableFromInline
    func unregister(
        slot: Int,
        _ future: any AbandonableFuture,
        retiring task: consuming Task<Void, any Error>?,
        failed: Bool,
        cancelled: Bool
    ) {
        lock.lock()
        if let task { retired.append(task) }
        guard slot < slots.count, let current = slots[slot], current === future else {
            lock.unlock()
            return
        }
        slots[slot] = nil
        freeSlots.append(slot)
        count -= 1
        totals.completed += 1
        if failed { totals.failed += 1 }
        if cancelled { totals.cancelled += 1 }
        // Drain waiters and submitters share the condition: broadcast when either can proceed.
        let mustWake = (count == 0 && isDrainAwaited) || (waitingSubmitters > 0 && count == lowWaterMark)
        lock.unlock()
        if mustWake { lock.broadcast() }
    }

    /// Refuses every later registration; returns how many futures are pending.
    func close() -> Int {
        let pending = lock.withLock {
            isClosed = true
            return count
        }
        lock.broadcast()  // submitters waiting for room get `nil` (shut down)
        return pending
    }

    /// Waits until no future is pending or `deadline` passes; returns whether none is pending.
    func waitUntilEmpty(until deadline: Deadline) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        isDrainAwaited = true
        while count > 0 {
            if !lock.wait(until: deadline) { return count == 0 }
        }
        return true
    }

    /// Empties the registry and returns the futures that were still pending; their tasks count as ended
    /// (their own unregistration will find nothing to do).
    func removeAll() -> [any AbandonableFuture] {
        lock.withLock {
            let pending = slots.compactMap { $0 }
            slots = []
            freeSlots = []
            retired = []
            count = 0
            totals.completed += pending.count
            return pending
        }
    }

    /// Counts tasks that shutdown abandoned (resolved with an error and cancelled).
    func recordAbandoned(_ abandoned: Int) {
        lock.withLock {
            totals.failed += abandoned
            totals.cancelled += abandoned
        }
    }

    /// The number of pending futures.
    var pendingCount: Int { lock.withLock { count } }

    /// Finished tasks waiting for a submitting thread to drop them (for tests).
    var retiredCount: Int { lock.withLock { retired.count } }

    /// The counters, and the number of pending futures, read together.
    func readTotals() -> (totals: Totals, pending: Int) {
        lock.withLock { (totals, count) }
    }
}

extension PendingRegistry {
    /// Task counts since the registry was created.
    struct Totals {
        var submitted = 0
        var completed = 0
        var failed = 0
        var cancelled = 0
        /// Registrations that had to wait for room.
        var throttled = 0
    }
}
