/// A min-heap of timers keyed by deadline (monotonic nanoseconds): the timer queue a worker thread
/// services from its own wait.
///
/// Timers with the same deadline come out in the order they went in (each carries an insertion
/// number). Insertion and removal are O(log n); the earliest deadline and the wake-up time are O(1).
///
/// A timer never comes out before its deadline. Its tolerance lets it come out later, up to deadline +
/// tolerance: ``wakeUpTime`` delays the earliest timer to the next one's deadline when that falls
/// inside its tolerance, so one wake-up serves both. Without a tolerance a timer is due at its deadline.
///
/// Not thread-safe: the owner guards it (the worker thread's lock).
struct TimerHeap<Element> {
    struct Entry {
        /// When the timer may run, at the earliest.
        let deadline: UInt64
        /// deadline + tolerance (clamped): when it should have run, at the latest.
        let latest: UInt64
        /// Insertion order: breaks ties between equal deadlines, first in first out.
        let sequence: UInt64
        let element: Element

        func precedes(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : sequence < other.sequence
        }
    }

    private var storage: [Entry] = []
    private var nextSequence: UInt64 = 0

    var count: Int { storage.count }
    var isEmpty: Bool { storage.isEmpty }

    /// The earliest deadline; nil when empty.
    var earliestDeadline: UInt64? { storage.first?.deadline }

    /// When the owner should wake to run timers: the earliest deadline, or — when the earliest timer has
    /// a tolerance and the next timer's deadline falls inside it — that next deadline, so both run from
    /// one wake-up. Never before the earliest deadline; nil when empty.
    var wakeUpTime: UInt64? {
        guard let first = storage.first else { return nil }
        guard first.latest > first.deadline else { return first.deadline }
        // The second-earliest timer is one of the root's children.
        var next: UInt64?
        if storage.count > 1 { next = storage[1].deadline }
        if storage.count > 2 { next = Swift.min(next!, storage[2].deadline) }
        guard let next, next <= first.latest else { return first.deadline }
        return next
    }

    /// Adds a timer due at `deadline`, which may run up to `tolerance` nanoseconds later.
    mutating func insert(_ element: Element, deadline: UInt64, tolerance: UInt64 = 0) {
        let (latest, overflow) = deadline.addingReportingOverflow(tolerance)
        let entry = Entry(
            deadline: deadline,
            latest: overflow ? .max : latest,
            sequence: nextSequence,
            element: element
        )
        nextSequence &+= 1
        storage.append(entry)
        siftUp(from: storage.count - 1)
    }

    /// Removes and returns the earliest timer if its deadline is at or before `now`.
    mutating func popDue(now: UInt64) -> Element? {
        guard let first = storage.first, first.deadline <= now else { return nil }
        return popFirst().element
    }

    /// Removes and returns every timer, earliest first.
    mutating func removeAll() -> [Entry] {
        var entries: [Entry] = []
        entries.reserveCapacity(storage.count)
        while !storage.isEmpty { entries.append(popFirst()) }
        return entries
    }

    private mutating func popFirst() -> Entry {
        let first = storage[0]
        let last = storage.removeLast()
        if !storage.isEmpty {
            storage[0] = last
            siftDown(from: 0)
        }
        if storage.isEmpty && storage.capacity > 1 << 16 {
            storage = []  // a burst made the buffer huge: give it back
        }
        return first
    }

    private mutating func siftUp(from index: Int) {
        var child = index
        let entry = storage[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard entry.precedes(storage[parent]) else { break }
            storage[child] = storage[parent]
            child = parent
        }
        storage[child] = entry
    }

    private mutating func siftDown(from index: Int) {
        var parent = index
        let entry = storage[parent]
        let count = storage.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            let right = left + 1
            let child = right < count && storage[right].precedes(storage[left]) ? right : left
            guard storage[child].precedes(entry) else { break }
            storage[parent] = storage[child]
            parent = child
        }
        storage[parent] = entry
    }
}
