import Synchronization

/// What a ``PipelineMonitor`` keeps for one domain: its counters and its most recent durations.
///
/// Recording takes no lock on the common path: every message records every domain it passes, on the
/// worker's thread, so a success is three relaxed atomic operations (its count, a position in the ring,
/// the sample). Only a failure's error type is counted under a lock.
///
/// The durations, in nanoseconds, live in a fixed-size ring of atomics, so memory stays the same however
/// many messages pass. A writer claims a position with one atomic increment and stores into it; a reader
/// racing it can see that slot's previous sample instead of the new one, which is fine for percentiles
/// over a recent window. Slots never written hold -1 and are skipped.
@usableFromInline
final class DomainRecord: @unchecked Sendable {
    // @unchecked: `samples` points to `capacity` atomics, initialised in `init` and freed in `deinit`;
    // every other access is an atomic load or store. The other stored properties are Sendable.
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
    @usableFromInline let samples: UnsafeMutablePointer<Atomic<Int64>>

    init(windowCapacity: Int) {
        capacity = max(1, windowCapacity)
        samples = .allocate(capacity: capacity)
        for index in 0..<capacity {
            (samples + index).initialize(to: Atomic(-1))
        }
    }

    deinit {
        samples.deinitialize(count: capacity)
        samples.deallocate()
    }

    /// Records one duration, in nanoseconds.
    @inlinable
    func appendDuration(_ nanoseconds: Int64) {
        let position = written.add(1, ordering: .relaxed).oldValue % capacity
        samples[position].store(nanoseconds, ordering: .relaxed)
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
        let count = min(written.load(ordering: .relaxed), capacity)
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
