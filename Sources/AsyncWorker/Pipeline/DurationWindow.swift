/// The most recent durations of one domain, in a fixed-size ring buffer, so the monitor's memory stays
/// the same however many messages pass.
struct DurationWindow: Sendable {
    let capacity: Int
    private var samples: [Duration] = []
    /// Where the next sample goes once the buffer is full (the oldest sample).
    private var next = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        samples.reserveCapacity(min(self.capacity, 4096))
    }

    mutating func append(_ duration: Duration) {
        if samples.count < capacity {
            samples.append(duration)
        } else {
            samples[next] = duration
            next = (next + 1) % capacity
        }
    }

    /// The samples in no particular order.
    var values: [Duration] { samples }

    /// The nearest-rank percentile `fraction` (0...1) of `sorted`, an ascending array: the smallest
    /// sample that at least `fraction` of all samples do not exceed. `nil` if there are no samples.
    static func percentile(_ fraction: Double, ofSorted sorted: [Duration]) -> Duration? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
