#if canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#elseif canImport(Glibc)
import Glibc
#endif

/// A pthread mutex and a condition variable whose timed wait takes a deadline on ``MonotonicClock``.
///
/// The raw half of the library's `ConditionLock`: this file is the only place that touches
/// `pthread_mutex_*` and `pthread_cond_*`. A struct of two pointers: the owner calls ``destroy()`` once.
///
/// Platform differences handled here:
/// - Linux: the condition variable is bound to `CLOCK_MONOTONIC` (`pthread_condattr_setclock`), so an
///   absolute monotonic deadline can be passed to `pthread_cond_timedwait`.
/// - Darwin has no `pthread_condattr_setclock`: an absolute deadline would be read as wall-clock time and
///   time out at once. It waits with `pthread_cond_timedwait_relative_np` for the time left instead.
/// - The adaptive (spin-then-sleep) mutex type exists on glibc only; elsewhere a plain mutex is used.
@usableFromInline
struct PlatformConditionLock: @unchecked Sendable {
    // @unchecked: the pthread objects are used only through their own thread-safe C API.
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let condition: UnsafeMutablePointer<pthread_cond_t>

    /// - Parameter spinsWhenContended: Spin briefly before sleeping when the lock is held (glibc's adaptive
    ///   mutex; a plain mutex on other platforms).
    init(spinsWhenContended: Bool = false) {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        var mutexAttributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&mutexAttributes)
        // Error-checking mutexes cost a little per operation; a plain one is what the hot path needs.
        var type = Int32(PTHREAD_MUTEX_NORMAL)
        #if canImport(Glibc) && !canImport(Musl)
        if spinsWhenContended { type = Int32(PTHREAD_MUTEX_ADAPTIVE_NP) }
        #endif
        pthread_mutexattr_settype(&mutexAttributes, type)
        let mutexStatus = pthread_mutex_init(mutex, &mutexAttributes)
        precondition(mutexStatus == 0, "pthread_mutex_init failed: \(mutexStatus)")
        pthread_mutexattr_destroy(&mutexAttributes)

        var conditionAttributes = pthread_condattr_t()
        pthread_condattr_init(&conditionAttributes)
        #if !canImport(Darwin)
        pthread_condattr_setclock(&conditionAttributes, CLOCK_MONOTONIC)
        #endif
        let conditionStatus = pthread_cond_init(condition, &conditionAttributes)
        precondition(conditionStatus == 0, "pthread_cond_init failed: \(conditionStatus)")
        pthread_condattr_destroy(&conditionAttributes)
    }

    /// Releases the pthread objects. Call once, when no thread uses the lock any more.
    func destroy() {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    @inlinable @inline(__always)
    func lock() { pthread_mutex_lock(mutex) }

    @inlinable @inline(__always)
    func unlock() { pthread_mutex_unlock(mutex) }

    @inlinable @inline(__always)
    func signal() { pthread_cond_signal(condition) }

    @inlinable @inline(__always)
    func broadcast() { pthread_cond_broadcast(condition) }

    /// Releases the mutex and sleeps until signalled (or spuriously woken); holds the mutex again on return.
    @usableFromInline
    func wait() {
        pthread_cond_wait(condition, mutex)
    }

    /// ``wait()`` until `deadline` (``MonotonicClock`` nanoseconds) at the latest; returns `false` if it
    /// passed.
    @usableFromInline
    func wait(untilMonotonicNanoseconds deadline: UInt64) -> Bool {
        #if canImport(Darwin)
        let now = MonotonicClock.nanoseconds()
        guard deadline > now else { return false }
        let left = deadline - now
        var relative = timespec()
        relative.tv_sec = Int(clamping: left / 1_000_000_000)
        relative.tv_nsec = Int(left % 1_000_000_000)
        return pthread_cond_timedwait_relative_np(condition, mutex, &relative) != ETIMEDOUT
        #else
        var spec = timespec()
        spec.tv_sec = Int(clamping: deadline / 1_000_000_000)
        spec.tv_nsec = Int(deadline % 1_000_000_000)
        return pthread_cond_timedwait(condition, mutex, &spec) != ETIMEDOUT
        #endif
    }
}

/// Mutexes laid out in memory the caller owns (the lock stripes of futures): initialise once, then lock
/// and unlock by address.
@usableFromInline
enum PlatformRawMutex {
    /// The bytes one mutex takes.
    static var size: Int { MemoryLayout<pthread_mutex_t>.size }

    /// Initialises a plain mutex at `address` (aligned for a pointer, at least ``size`` bytes).
    static func initialize(at address: UnsafeMutableRawPointer) {
        let mutex = address.bindMemory(to: pthread_mutex_t.self, capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
    }

    @inlinable @inline(__always)
    static func lock(_ address: UnsafeMutableRawPointer) {
        pthread_mutex_lock(address.assumingMemoryBound(to: pthread_mutex_t.self))
    }

    @inlinable @inline(__always)
    static func unlock(_ address: UnsafeMutableRawPointer) {
        pthread_mutex_unlock(address.assumingMemoryBound(to: pthread_mutex_t.self))
    }
}
