#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A `pthread_mutex_t` with a `pthread_cond_t` whose timed waits use the monotonic clock.
///
/// Used where a thread must sleep until a predicate holds: the worker's job queue, the pending-task
/// registry and each thread's ``Parker``. `Synchronization.Mutex` is not used on these paths: on Linux
/// it parks contended waiters on a priority-inheritance futex (`FUTEX_LOCK_PI`), measured far slower
/// under contention (see ARCHITECTURE.md), and it offers no condition variable.
///
/// The caller brackets every access to the state it protects with ``lock()``/``unlock()`` (or
/// ``withLock(_:)``) and re-checks its predicate after every ``wait(until:)``: wake-ups can be spurious.
@usableFromInline
final class ConditionLock: @unchecked Sendable {
    // @unchecked: the pthread objects are used only through their own thread-safe C API.
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let condition: UnsafeMutablePointer<pthread_cond_t>

    /// - Parameter spinsWhenContended: Spin briefly before sleeping when the lock is held (glibc's adaptive
    ///   mutex; a plain one elsewhere). For a lock two busy threads take in turn, with a few instructions
    ///   inside: there a contended plain mutex sleeps in the kernel, and a wake-up costs 25–50 µs on the
    ///   development VM. Measured on the pipeline's lock: `post` 1.5–1.8× faster. Not used on the core's
    ///   locks: there it showed no clear gain (round trip within noise; fire-and-forget 5–10% lower in
    ///   one of two paired runs, higher in the other), and a spin is wasted when the holder is descheduled.
    init(spinsWhenContended: Bool = false) {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        var mutexAttributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&mutexAttributes)
        // Error-checking mutexes cost a little per operation; a plain one is what the hot path needs.
        var type = Int32(PTHREAD_MUTEX_NORMAL)
        #if canImport(Glibc)
        if spinsWhenContended { type = Int32(PTHREAD_MUTEX_ADAPTIVE_NP) }
        #endif
        pthread_mutexattr_settype(&mutexAttributes, type)
        let mutexStatus = pthread_mutex_init(mutex, &mutexAttributes)
        precondition(mutexStatus == 0, "pthread_mutex_init failed: \(mutexStatus)")
        pthread_mutexattr_destroy(&mutexAttributes)

        var conditionAttributes = pthread_condattr_t()
        pthread_condattr_init(&conditionAttributes)
        pthread_condattr_setclock(&conditionAttributes, CLOCK_MONOTONIC)
        let conditionStatus = pthread_cond_init(condition, &conditionAttributes)
        precondition(conditionStatus == 0, "pthread_cond_init failed: \(conditionStatus)")
        pthread_condattr_destroy(&conditionAttributes)
    }

    deinit {
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
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Wakes one waiter. The lock need not be held.
    @inlinable @inline(__always)
    func signal() { pthread_cond_signal(condition) }

    /// Wakes every waiter. The lock need not be held.
    @usableFromInline
    func broadcast() { pthread_cond_broadcast(condition) }

    /// Atomically releases the lock and sleeps until signalled or until `deadline`; holds the lock again
    /// on return. Returns `false` if the deadline passed. The lock must be held.
    @usableFromInline @discardableResult
    func wait(until deadline: Deadline = .never) -> Bool {
        if deadline == .never {
            pthread_cond_wait(condition, mutex)
            return true
        }
        var spec = deadline.posixTimespec
        return pthread_cond_timedwait(condition, mutex, &spec) != ETIMEDOUT
    }
}
