#if canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#elseif canImport(Glibc)
import Glibc
#endif

/// The clock every deadline in the library is measured on: monotonic, and not advancing while the
/// system sleeps.
///
/// - Linux (glibc and musl): `CLOCK_MONOTONIC`, which stops during suspend.
/// - Darwin: `CLOCK_UPTIME_RAW`, which stops during sleep like Linux's `CLOCK_MONOTONIC` (Darwin's own
///   `CLOCK_MONOTONIC` keeps counting during sleep). It is the clock of Swift's `SuspendingClock` there.
///
/// So a timeout means "this much time awake": a laptop that sleeps for an hour in the middle of a
/// 5-second timeout does not time out on waking. Never the wall clock, which can jump.
@usableFromInline
enum MonotonicClock {
    /// Nanoseconds since an arbitrary, fixed origin (boot, on Linux).
    @inlinable
    static func nanoseconds() -> UInt64 {
        #if canImport(Darwin)
        return clock_gettime_nsec_np(CLOCK_UPTIME_RAW)
        #else
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
        #endif
    }
}
