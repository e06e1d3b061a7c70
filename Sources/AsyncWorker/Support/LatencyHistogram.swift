import Synchronization

/// A lock-free histogram of nanosecond durations with log-linear buckets: recording is one relaxed
/// atomic add, and percentiles read back with at most 1/16 (6.25%) relative error.
///
/// Values below 16 ns have a bucket each; above, every power of two is split into 16 equal buckets
/// (the layout of HdrHistogram with 4 bits of precision). Values from 2^44 ns (about 4.9 hours) up are
/// counted in the last bucket. 656 buckets, 5.2 KiB, in one allocation made at creation.
///
/// Any thread may record and read at once; a read that races with recordings sees each count either
/// before or after a given recording, so a snapshot is approximate only while values are being added.
final class LatencyHistogram: @unchecked Sendable {
    // @unchecked: `buckets` points to atomics initialised in init and freed in deinit; every access
    // between goes through their atomic operations.
    static let subBucketBits = 4
    static let subBucketCount = 1 << subBucketBits
    /// Powers of two covered with full precision: values below 2^44 ns.
    static let topExponent = 44
    static let bucketCount = subBucketCount + (topExponent - subBucketBits) * subBucketCount

    // A heap buffer of atomics rather than `InlineArray`, which needs macOS/iOS 26.
    private let buckets: UnsafeMutablePointer<Atomic<UInt64>>
    private let sum = Atomic<UInt64>(0)
    private let maximum = Atomic<UInt64>(0)

    init() {
        buckets = .allocate(capacity: Self.bucketCount)
        for index in 0..<Self.bucketCount {
            (buckets + index).initialize(to: Atomic(0))
        }
    }

    deinit {
        buckets.deinitialize(count: Self.bucketCount)
        buckets.deallocate()
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

    /// Counts, mean, percentiles and maximum of everything recorded so far, in nanoseconds.
    struct Summary: Equatable {
        var count = 0
        var mean: UInt64 = 0
        var p50: UInt64 = 0
        var p90: UInt64 = 0
        var p99: UInt64 = 0
        var max: UInt64 = 0
    }

    /// Counts, mean, percentiles and maximum of everything recorded so far.
    func summary() -> Summary {
        var counts = [UInt64](repeating: 0, count: Self.bucketCount)
        var total: UInt64 = 0
        for index in 0..<Self.bucketCount {
            let count = buckets[index].load(ordering: .relaxed)
            counts[index] = count
            total &+= count
        }
        guard total > 0 else { return Summary() }
        let maximum = self.maximum.load(ordering: .relaxed)
        func percentile(_ fraction: Double) -> UInt64 {
            // The smallest value with at least `fraction` of the values at or below it.
            let rank = max(1, UInt64((Double(total) * fraction).rounded(.up)))
            var seen: UInt64 = 0
            for (index, count) in counts.enumerated() where count > 0 {
                seen &+= count
                if seen >= rank { return min(Self.upperBound(ofBucket: index), maximum) }
            }
            return maximum
        }
        return Summary(
            count: Int(total),
            mean: sum.load(ordering: .relaxed) / total,
            p50: percentile(0.50),
            p90: percentile(0.90),
            p99: percentile(0.99),
            max: maximum
        )
    }
}
