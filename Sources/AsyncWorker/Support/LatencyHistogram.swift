import Synchronization

/// A lock-free histogram of nanosecond durations with log-linear buckets: recording is one relaxed
/// atomic add, and percentiles read back with at most 1/16 (6.25%) relative error.
///
/// Values below 16 ns have a bucket each; above, every power of two is split into 16 equal buckets
/// (the layout of HdrHistogram with 4 bits of precision). Values from 2^44 ns (about 4.9 hours) up are
/// counted in the last bucket. 656 buckets, 5.2 KiB.
///
/// Any thread may record and read at once; a read that races with recordings sees each count either
/// before or after a given recording, so a snapshot is approximate only while values are being added.
final class LatencyHistogram: Sendable {
    static let subBucketBits = 4
    static let subBucketCount = 1 << subBucketBits
    /// Powers of two covered with full precision: values below 2^44 ns.
    static let topExponent = 44
    static let bucketCount = subBucketCount + (topExponent - subBucketBits) * subBucketCount

    private let buckets: InlineArray<656, Atomic<UInt64>> = .init { _ in Atomic(0) }
    private let sum = Atomic<UInt64>(0)
    private let maximum = Atomic<UInt64>(0)

    init() {
        assert(buckets.count == Self.bucketCount)
    }

    /// Adds one value, in nanoseconds.
    @inline(__always)
    func record(_ nanoseconds: UInt64) {
        buckets[Self.bucketIndex(of: nanoseconds)].wrappingAdd(1, ordering: .relaxed)
        sum.wrappingAdd(nanoseconds, ordering: .relaxed)
        var current = maximum.load(ordering: .relaxed)
        while nanoseconds > current {
            let (exchanged, original) = maximum.weakCompareExchange(
                expected: current,
                desired: nanoseconds,
                ordering: .relaxed
            )
            if exchanged { break }
            current = original
        }
    }

    /// The bucket that counts `value`.
    @inline(__always)
    static func bucketIndex(of value: UInt64) -> Int {
        if value < UInt64(subBucketCount) { return Int(value) }
        let exponent = min(63 - value.leadingZeroBitCount, topExponent - 1)
        if exponent == topExponent - 1 && value >> exponent > 1 { return bucketCount - 1 }
        let shift = exponent - subBucketBits
        let subBucket = Int(truncatingIfNeeded: value >> UInt64(shift)) & (subBucketCount - 1)
        return subBucketCount + shift * subBucketCount + subBucket
    }

    /// The largest value counted in bucket `index` (values in a bucket are reported as this bound, so a
    /// percentile is never understated).
    static func upperBound(ofBucket index: Int) -> UInt64 {
        if index < subBucketCount { return UInt64(index) }
        let shift = (index - subBucketCount) / subBucketCount
        let subBucket = UInt64((index - subBucketCount) % subBucketCount)
        let lower = (UInt64(subBucketCount) + subBucket) << UInt64(shift)
        return lower + (1 << UInt64(shift)) - 1
    }

    /// Counts, mean, percentiles and maximum of everything recorded so far.
    func summary() -> LatencySummary {
        var counts = [UInt64](repeating: 0, count: Self.bucketCount)
        var total: UInt64 = 0
        for index in 0..<Self.bucketCount {
            let count = buckets[index].load(ordering: .relaxed)
            counts[index] = count
            total &+= count
        }
        guard total > 0 else { return LatencySummary() }
        let maximum = self.maximum.load(ordering: .relaxed)
        func percentile(_ fraction: Double) -> Duration {
            // The smallest value with at least `fraction` of the values at or below it.
            let rank = max(1, UInt64((Double(total) * fraction).rounded(.up)))
            var seen: UInt64 = 0
            for (index, count) in counts.enumerated() where count > 0 {
                seen &+= count
                if seen >= rank { return .nanoseconds(Int64(clamping: min(Self.upperBound(ofBucket: index), maximum))) }
            }
            return .nanoseconds(Int64(clamping: maximum))
        }
        return LatencySummary(
            count: Int(total),
            mean: .nanoseconds(Int64(clamping: sum.load(ordering: .relaxed) / total)),
            p50: percentile(0.50),
            p90: percentile(0.90),
            p99: percentile(0.99),
            max: .nanoseconds(Int64(clamping: maximum))
        )
    }
}
