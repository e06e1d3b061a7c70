/// A value guarded by a pthread mutex: the house replacement for `Synchronization.Mutex`.
///
/// Why not `Mutex`: on Linux ThreadSanitizer cannot see its synchronisation (its futex operations live
/// in the uninstrumented standard library), so every access under it is reported as a data race, and
/// under contention it parks on a priority-inheritance futex, measured far slower (ARCHITECTURE.md,
/// "Locks"). pthread mutexes are intercepted by TSan and take the plain futex path.
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is read and written only while `lock` is held.
    private let lock = ConditionLock()
    // Unchecked exclusivity: `lock` serialises every access (a dynamic check costs a TLS lookup per access).
    @exclusivity(unchecked) private var value: Value  // protected by `lock`

    init(_ value: Value) {
        self.value = value
    }

    @inline(__always)
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
