import Synchronization

/// What a ``PipelineMonitor`` keeps for one domain: its counters and its most recent durations.
///
/// Recording takes no lock on the common path: every message records every domain it passes, on the
/// worker's thread, so a success is a few relaxed atomic operations (its count, a position in the ring,
/// the sample). Only a failure's error type is counted under a lock.
///
/// The durations, in nanoseconds, live in a ring of atomics of at most `capacity` samples, so memory
/// stays bounded however many messages pass. A writer claims a position with one atomic increment and
/// stores into it; a reader racing it can see that slot's previous sample instead of the new one, which
/// is fine for percentiles over a recent window. Slots never written hold -1 and are skipped.
///
/// The ring starts with room for at most ``initialRoom`` samples and doubles, under a lock, when a
/// position beyond its room is claimed, up to `capacity`: a huge window costs memory only as samples
/// arrive. A buffer outgrown stays allocated until the record is freed (together they take less than the
/// final one), so a writer or reader still holding it never touches freed memory; a sample written into
/// it during the copy is lost to the window (it is still counted).
@usableFromInline
final class DomainRecord: @unchecked Sendable {
    // @unchecked: the ring's buffers are atomics, allocated under `growth`'s lock and freed in `deinit`;
    // after publication every access to them is an atomic load or store. The other stored properties
    // are Sendable.
    @usableFromInline let successes = Atomic<Int>(0)
    @usableFromInline let failures = Atomic<Int>(0)
    @usableFromInline let retries = Atomic<Int>(0)
    /// ``failures`` by error type name. `Locked` (a pthread mutex) rather than `Mutex`, which
    /// ThreadSanitizer cannot see on Linux.
    let failuresByType = Locked<[String: Int]>([:])
    /// How many durations the ring holds at most.
    @usableFromInline let capacity: Int
    /// How many durations were ever appended; the next one goes to `written % capacity`.
    @usableFromInline let written = Atomic<Int>(0)
    /// The current buffer and how many samples it has room for. `buffer` is published before `room`,
    /// so a thread that reads `room` and then `buffer` gets a buffer at least that large.
    @usableFromInline let buffer: Atomic<UnsafeMutablePointer<Atomic<Int64>>>
    @usableFromInline let room: Atomic<Int>
    /// Every buffer allocated (the current one last), freed in `deinit`.
    private let growth: Locked<[(UnsafeMutablePointer<Atomic<Int64>>, Int)]>

    /// The room of the first buffer, for windows larger than it.
    static let initialRoom = 1_024

    init(windowCapacity: Int) {
        capacity = max(1, windowCapacity)
        let initial = min(capacity, Self.initialRoom)
        let first = Self.allocateBuffer(room: initial)
        buffer = Atomic(first)
        room = Atomic(initial)
        growth = Locked([(first, initial)])
    }

    deinit {
        for (buffer, room) in growth.withLock({ $0 }) {
            buffer.deinitialize(count: room)
            buffer.deallocate()
        }
    }

    private static func allocateBuffer(room: Int) -> UnsafeMutablePointer<Atomic<Int64>> {
        let buffer = UnsafeMutablePointer<Atomic<Int64>>.allocate(capacity: room)
        for index in 0..<room {
            (buffer + index).initialize(to: Atomic(-1))
        }
        return buffer
    }

    /// Records one duration, in nanoseconds.
    @inlinable
    func appendDuration(_ nanoseconds: Int64) {
        let position = written.add(1, ordering: .relaxed).oldValue % capacity
        if position >= room.load(ordering: .acquiring) { grow(toHold: position) }
        buffer.load(ordering: .acquiring)[position].store(nanoseconds, ordering: .relaxed)
    }

    /// Doubles the ring's room (copying the samples) until it holds `position`.
    @usableFromInline
    func grow(toHold position: Int) {
        growth.withLock { buffers in
            let (current, currentRoom) = buffers[buffers.count - 1]
            guard position >= currentRoom else { return }  // another writer grew it
            var newRoom = currentRoom
            while newRoom <= position { newRoom = newRoom > capacity / 2 ? capacity : newRoom * 2 }
            let larger = Self.allocateBuffer(room: newRoom)
            for index in 0..<currentRoom {
                larger[index].store(current[index].load(ordering: .relaxed), ordering: .relaxed)
            }
            buffers.append((larger, newRoom))
            buffer.store(larger, ordering: .releasing)
            room.store(newRoom, ordering: .releasing)
        }
    }

    /// Counts a failed attempt whose error's type is named `typeName`: the breakdown first, so a snapshot,
    /// which reads ``failures`` first, never sees the breakdown fall short of it.
    @usableFromInline
    func recordFailure(of typeName: String) {
        failuresByType.withLock { $0[typeName, default: 0] += 1 }
        failures.add(1, ordering: .relaxed)
    }

    /// The durations the ring holds, in no particular order.
    func recentDurations() -> [Duration] {
        let room = room.load(ordering: .acquiring)
        let samples = buffer.load(ordering: .acquiring)
        let count = min(written.load(ordering: .relaxed), capacity, room)
        var values: [Duration] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            let nanoseconds = samples[index].load(ordering: .relaxed)
            if nanoseconds >= 0 { values.append(.nanoseconds(nanoseconds)) }
        }
        return values
    }

    /// The nearest-rank percentile `fraction` (0...1) of `sorted`, an ascending array: the smallest
    /// sample that at least `fraction` of all samples do not exceed. `nil` if there are no samples.
    static func percentile(_ fraction: Double, ofSorted sorted: [Duration]) -> Duration? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
