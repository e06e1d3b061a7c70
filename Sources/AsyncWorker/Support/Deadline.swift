/// A point in time on the monotonic clock (``MonotonicClock``: it does not advance while the system
/// sleeps), the only clock timed waits use.
///
/// The wall clock can jump when the system time is set; a deadline taken from it could fire early or
/// never. Every conversion from a user-supplied duration clamps instead of trapping.
@usableFromInline
struct Deadline: Comparable, Sendable {
    /// Nanoseconds since an arbitrary, fixed origin (boot, on Linux).
    @usableFromInline var nanoseconds: UInt64

    @usableFromInline
    init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// A deadline that never passes.
    @usableFromInline static let never = Deadline(nanoseconds: .max)

    /// Durations at or above this are treated as "no timeout" (about 31 years): far beyond any real
    /// wait, and small enough that the nanosecond arithmetic below can never overflow.
    @usableFromInline static let longestTimeout: Duration = .seconds(1_000_000_000)

    @inlinable static var now: Deadline {
        Deadline(nanoseconds: MonotonicClock.nanoseconds())
    }

    /// The deadline `timeout` from now; `nil` or a huge timeout gives ``never``.
    ///
    /// A zero or negative timeout gives a deadline that has already passed.
    @usableFromInline
    static func after(_ timeout: Duration?) -> Deadline {
        guard let nanos = Self.nanoseconds(of: timeout) else { return .never }
        return Deadline(nanoseconds: Deadline.now.nanoseconds.addingClampedToMax(nanos))
    }

    /// This deadline moved later by `duration` (clamped; ``never`` stays ``never``).
    func adding(_ duration: Duration) -> Deadline {
        guard self != .never, let nanos = Self.nanoseconds(of: duration) else { return .never }
        return Deadline(nanoseconds: nanoseconds.addingClampedToMax(nanos))
    }

    /// `timeout` in whole nanoseconds, clamped at zero; `nil` for "no timeout" (nil or huge).
    static func nanoseconds(of timeout: Duration?) -> UInt64? {
        guard let timeout, timeout < longestTimeout else { return nil }
        guard timeout > .zero else { return 0 }
        let (seconds, attoseconds) = timeout.components
        // seconds < 1e9, so seconds * 1e9 + 1e9 < 2^63: no overflow.
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    /// Converts a legacy `TimeInterval` (seconds) to a `Duration` without trapping: NaN and negative
    /// values become zero, infinite and huge values become "no timeout" (`nil`).
    @usableFromInline
    static func duration(fromSeconds seconds: Double) -> Duration? {
        guard !seconds.isNaN else { return .zero }
        guard seconds < 1_000_000_000 else { return nil }
        guard seconds > 0 else { return .zero }
        return .nanoseconds(Int64(seconds * 1_000_000_000))
    }

    @usableFromInline
    var hasPassed: Bool { self != .never && Deadline.now >= self }

    @usableFromInline
    static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

extension UInt64 {
    fileprivate func addingClampedToMax(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
