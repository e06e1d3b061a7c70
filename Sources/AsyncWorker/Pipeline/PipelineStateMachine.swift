/// The pipeline's bookkeeping as a pure value: intake, the in-flight messages (one slot each), the
/// subscribers and the shutdown lifecycle. ``PipelineStorage`` owns it behind its lock and acts on what
/// each transition returns; nothing here blocks, calls out or takes a lock.
///
/// A message goes through three steps:
/// 1. **admitted**: it takes a slot and gets an entry;
/// 2. **settled**, exactly once, by whichever comes first: its task finishing (the normal case), its
///    future resolving without the task (the worker refused or abandoned it), or shutdown abandoning
///    it. The outcome is recorded in the entry; the settler counts it and tells the subscribers;
/// 3. **released**: its future is resolved; the entry goes and the slot is free again.
@usableFromInline
struct PipelineStateMachine<Input: Sendable, Output: Sendable> {
    @usableFromInline typealias OutputHandler = @Sendable (Output) -> Void
    @usableFromInline typealias FailureHandler = @Sendable (PipelineFailure<Input>) -> Void

    @usableFromInline
    enum Lifecycle {
        case open
        /// Intake is closed; shutdown drains what is in flight.
        case draining
        /// Shutdown is over: every message is settled and the subscribers are let go.
        case stopped
    }

    /// An admitted message that is not released yet.
    @usableFromInline
    struct Message {
        /// Its id: the admission's sequence number in the high 32 bits, its slot in the low 32.
        @usableFromInline var id: UInt64
        @usableFromInline var input: Input
        /// `nil` until the message's task is started and its future attached.
        @usableFromInline var future: TaskFuture<Output>?
        /// The outcome once settled; its future must resolve with the same outcome.
        @usableFromInline var outcome: Result<Output, any Error>?
        /// Settled by shutdown: its future must be abandoned (resolved with `.shutDown`, task cancelled).
        @usableFromInline var isAbandoned = false

        @inlinable
        init(id: UInt64, input: Input) {
            self.id = id
            self.input = input
        }
    }

    @usableFromInline
    enum Admission {
        case admitted(id: UInt64)
        /// Every slot is taken: wait for a release.
        case mustWait
        case refused(AsyncWorkerError)
    }

    /// What to do once a message is settled: tell these subscribers.
    @usableFromInline
    struct Settlement {
        @usableFromInline var input: Input
        @usableFromInline var outputHandlers: [OutputHandler]
        @usableFromInline var failureHandlers: [FailureHandler]

        @inlinable
        init(input: Input, outputHandlers: [OutputHandler], failureHandlers: [FailureHandler]) {
            self.input = input
            self.outputHandlers = outputHandlers
            self.failureHandlers = failureHandlers
        }
    }

    /// What to do with a future just attached.
    @usableFromInline
    enum AttachAction {
        case none
        /// Shutdown abandoned the message before the future existed.
        case abandon
        /// Shutdown is past its deadline and the message is already settled: resolve the future now with
        /// its outcome rather than leave it to the worker.
        case resolve(Result<Output, any Error>)
    }

    /// What shutdown must do at its deadline.
    struct Abandonment {
        /// Messages it settled as abandoned: count them and tell the failure subscribers, then abandon
        /// their futures (if attached).
        var abandoned: [Message]
        /// Messages settled earlier whose futures are not resolved yet: resolve them with their outcome,
        /// so every future is resolved when shutdown returns.
        var settled: [(TaskFuture<Output>, Result<Output, any Error>)]
        var failureHandlers: [FailureHandler]
    }

    @usableFromInline let maxInFlight: Int
    /// Callers waiting for a slot are woken when the slots taken fall to this (7/8 of `maxInFlight`), all
    /// at once, rather than on every release: with a caller that outruns the worker, a wake-up per release
    /// made every message a kernel wake-up (`Pipeline.post` ran at 0.3x the same steps as one task).
    @usableFromInline let lowWaterMark: Int
    @usableFromInline private(set) var lifecycle = Lifecycle.open
    @usableFromInline var lastID: UInt64 = 0
    /// Admitted and not yet released, one slot each: a slab (an array of slots and a free list), so a
    /// message is found by the slot in its id, without hashing (a dictionary's hashing cost ~800
    /// instructions per message, measured).
    @usableFromInline var slots: [Message?] = []
    @usableFromInline var freeSlots: [Int] = []
    /// Slots taken.
    @usableFromInline private(set) var inFlight = 0
    /// Set once shutdown has abandoned what was unsettled at its deadline.
    @usableFromInline var hasAbandoned = false
    @usableFromInline private(set) var outputHandlers: [OutputHandler] = []
    @usableFromInline private(set) var failureHandlers: [FailureHandler] = []
    /// Threads waiting for a slot, and threads waiting for the drain: a release wakes them.
    @usableFromInline private(set) var slotWaiters = 0
    @usableFromInline private(set) var drainWaiters = 0

    init(maxInFlight: Int) {
        self.maxInFlight = maxInFlight
        self.lowWaterMark = maxInFlight - max(1, maxInFlight / 8)
    }

    /// The slot of message `id`, if that message still holds it.
    @inlinable
    func slot(of id: UInt64) -> Int? {
        let slot = Int(truncatingIfNeeded: id & 0xFFFF_FFFF)
        guard slot < slots.count, let message = slots[slot], message.id == id else { return nil }
        return slot
    }

    @inlinable
    var isOpen: Bool {
        if case .open = lifecycle { return true }
        return false
    }

    mutating func addOutputHandler(_ handler: @escaping OutputHandler) {
        if case .stopped = lifecycle { return }  // no message will ever settle again
        outputHandlers.append(handler)
    }

    mutating func addFailureHandler(_ handler: @escaping FailureHandler) {
        if case .stopped = lifecycle { return }
        failureHandlers.append(handler)
    }

    /// Takes a slot for `input`. `ignoringLimit` admits even when every slot is taken (callers on the
    /// worker's thread, which must never wait for a slot only that thread can free).
    @inlinable
    mutating func admit(_ input: Input, ignoringLimit: Bool) -> Admission {
        guard isOpen else { return .refused(.shutDown) }
        guard ignoringLimit || inFlight < maxInFlight else { return .mustWait }
        lastID &+= 1
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = slots.count
            slots.append(nil)
        }
        let id = (lastID << 32) | UInt64(truncatingIfNeeded: slot)
        slots[slot] = Message(id: id, input: input)
        inFlight += 1
        return .admitted(id: id)
    }

    /// Records the future of message `id`.
    @inlinable
    mutating func attach(_ future: TaskFuture<Output>, to id: UInt64) -> AttachAction {
        // The entry exists: it goes only on release, which waits for this future's completion handler,
        // registered after this call.
        guard let slot = slot(of: id), var message = slots[slot] else {
            preconditionFailure("attach to an unknown message")
        }
        message.future = future
        // Copied out and written back: an in-place `slots[slot]?.future = …` goes through `_modify`
        // coroutines, whose frames were heap-allocated here (measured with a dictionary: 3 mallocs).
        slots[slot] = message
        if message.isAbandoned { return .abandon }
        if hasAbandoned, let outcome = message.outcome { return .resolve(outcome) }
        return .none
    }

    /// Settles message `id` with `outcome` unless it is settled already; returns whom to tell, or `nil`.
    @inlinable
    mutating func settle(_ id: UInt64, _ outcome: Result<Output, any Error>) -> Settlement? {
        guard let slot = slot(of: id), var message = slots[slot], message.outcome == nil else { return nil }
        message.outcome = outcome
        slots[slot] = message  // written back (see `attach`)
        return Settlement(input: message.input, outputHandlers: outputHandlers, failureHandlers: failureHandlers)
    }

    /// Frees the slot of message `id`, whose future is resolved; returns whether waiters must be woken.
    @inlinable
    mutating func release(_ id: UInt64) -> Bool {
        guard let slot = slot(of: id) else {
            preconditionFailure("Pipeline released a message twice")
        }
        slots[slot] = nil
        freeSlots.append(slot)
        inFlight -= 1
        return (slotWaiters > 0 && inFlight <= lowWaterMark) || (drainWaiters > 0 && inFlight == 0)
    }

    /// A caller starts waiting for a slot (``admit(_:ignoringLimit:)`` said ``Admission/mustWait``).
    @inlinable
    mutating func slotWaitBegan() { slotWaiters += 1 }

    /// A caller stops waiting for a slot (woken, or its deadline passed).
    @inlinable
    mutating func slotWaitEnded() { slotWaiters -= 1 }

    /// Shutdown starts waiting for the in-flight messages; returns whether any is in flight.
    mutating func drainWaitBegan() -> Bool {
        drainWaiters += 1
        return inFlight > 0
    }

    /// Shutdown stops waiting for the drain.
    mutating func drainWaitEnded() { drainWaiters -= 1 }

    /// Closes intake (called once, by the shutdown that drains); returns how many messages hold a slot.
    mutating func beginShutdown() -> Int {
        guard case .open = lifecycle else { preconditionFailure("Pipeline shutdown began twice") }
        lifecycle = .draining
        return inFlight
    }

    /// At shutdown's deadline: settles every unsettled message as abandoned, and lists the settled
    /// messages whose futures are still to be resolved.
    mutating func abandonAll() -> Abandonment {
        guard case .draining = lifecycle else { preconditionFailure("abandonAll outside a shutdown") }
        hasAbandoned = true
        var abandonment = Abandonment(abandoned: [], settled: [], failureHandlers: failureHandlers)
        for slot in slots.indices {
            guard var message = slots[slot] else { continue }
            if let outcome = message.outcome {
                if let future = message.future { abandonment.settled.append((future, outcome)) }
            } else {
                message.outcome = .failure(AsyncWorkerError.shutDown)
                message.isAbandoned = true
                slots[slot] = message
                abandonment.abandoned.append(message)
            }
        }
        return abandonment
    }

    /// Records the report and lets the subscribers go: every message is settled, none will call them
    /// again, and a subscriber that captures its pipeline would otherwise keep both alive (a cycle).
    mutating func finishShutdown() {
        lifecycle = .stopped
        outputHandlers = []
        failureHandlers = []
    }
}
