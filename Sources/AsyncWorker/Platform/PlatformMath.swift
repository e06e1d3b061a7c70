#if canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#elseif canImport(Glibc)
import Glibc
#endif

/// The C library's math functions the library needs.
enum PlatformMath {
    /// `x` raised to `y` (the C library's `pow`).
    @usableFromInline
    static func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
}
