import Synchronization

/// A mutex with a condition variable whose timed waits use the monotonic clock (``PlatformConditionLock``),
/// made aware of the main run loop.
///
/// Used where a thread must sleep until a predicate holds: the worker's job queue, the pending-task
/// registry and each thread's ``Parker``. `Synchronization.Mutex` is not used on these paths: on Linux
/// it parks contended waiters on a priority-inheritance futex (`FUTEX_LOCK_PI`), measured far slower
/// under contention (see ARCHITECTURE.md), and it offers no condition variable.
///
/// The caller brackets every access to the state it protects with ``lock()``/``unlock()`` (or
/// ``withLock(_:)``) and re-checks its predicate after every ``wait(until:)``: wake-ups can be spurious.
///
/// On the main thread, ``wait(until:)`` follows the main-thread waiting policy (see ``MainRunLoop``): it
/// releases the lock and runs the main run loop for a slice instead of sleeping, and ``signal()`` and
/// ``broadcast()`` wake such a waiter by posting an empty main-queue block. Waits that must never run
/// main-queue work (a thread-start handshake, a worker's idle sleep) use ``waitPlainly(until:)``.
@usableFromInline
final class ConditionLock: @unchecked Sendable {
    // @unchecked: the pthread objects are used only through their own thread-safe C API.
    @usableFromInline let platform: PlatformConditionLock
    /// Main-thread waiters in a run-loop slice (changed under the lock, read by wakers without it).
    @usableFromInline let runLoopWaiters = Atomic<Int>(0)
    /// Wake-ups sent while a main-thread waiter was in a run-loop slice: tells a waiter whose slice was
    /// refused whether it missed one.
    private let runLoopWakeUps = Atomic<UInt64>(0)

    /// - Parameter spinsWhenContended: Spin briefly before sleeping when the lock is held (glibc's adaptive
    ///   mutex; a plain one elsewhere). For a lock two busy threads take in turn, with a few instructions
    ///   inside: there a contended plain mutex sleeps in the kernel, and a wake-up costs 25–50 µs on the
    ///   development VM. Measured on the pipeline's lock: `post` 1.5–1.8× faster. On the pending-task
    ///   registry's lock (a submitter's `register` against the worker's `unregister`, once per task each):
    ///   41,503 context switches per 1.5 M streamed fire-and-forget tasks with a plain mutex, 1,274 with
    ///   this one. Not used on the job queue's lock: there it showed no clear gain (paired runs moved
    ///   either way by up to 10%), and a spin is wasted when the holder is descheduled.
    init(spinsWhenContended: Bool = false) {
        platform = PlatformConditionLock(spinsWhenContended: spinsWhenContended)
    }

    deinit {
        platform.destroy()
    }

    @inlinable @inline(__always)
    func lock() { platform.lock() }

    @inlinable @inline(__always)
    func unlock() { platform.unlock() }

    @inlinable @inline(__always)
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Wakes one waiter. The lock need not be held.
    @inlinable @inline(__always)
    func signal() {
        if runLoopWaiters.load(ordering: .relaxed) > 0 { wakeRunLoopWaiter() }
        platform.signal()
    }

    /// Wakes every waiter. The lock need not be held.
    @usableFromInline
    func broadcast() {
        if runLoopWaiters.load(ordering: .relaxed) > 0 { wakeRunLoopWaiter() }
        platform.broadcast()
    }

    @usableFromInline
    func wakeRunLoopWaiter() {
        runLoopWakeUps.add(1, ordering: .relaxed)
        MainRunLoop.wake()
    }

    /// Atomically releases the lock and sleeps until signalled or until `deadline`; holds the lock again
    /// on return. Returns `false` if the deadline passed. The lock must be held.
    ///
    /// On the main thread (unless the policy is to block) it runs the main run loop for one slice instead,
    /// with the lock released; the return is then a spurious wake-up unless the deadline passed.
    @usableFromInline @discardableResult
    func wait(until deadline: Deadline = .never) -> Bool {
        if MainRunLoop.shouldServiceOnCurrentThread {
            return waitServicingMainRunLoop(until: deadline)
        }
        return waitPlainly(until: deadline)
    }

    /// ``wait(until:)`` that never services the main run loop.
    @usableFromInline @discardableResult
    func waitPlainly(until deadline: Deadline = .never) -> Bool {
        if deadline == .never {
            platform.wait()
            return true
        }
        return platform.wait(untilMonotonicNanoseconds: deadline.nanoseconds)
    }

    private func waitServicingMainRunLoop(until deadline: Deadline) -> Bool {
        if deadline.hasPassed { return false }
        // Counted under the lock: a waker's state change (under the lock) comes after this, so its
        // signal sees the count and wakes the run loop.
        runLoopWaiters.add(1, ordering: .relaxed)
        let wakeUpsBefore = runLoopWakeUps.load(ordering: .relaxed)
        unlock()
        let serviced = MainRunLoop.runOnce(until: deadline.nanoseconds)
        lock()
        runLoopWaiters.subtract(1, ordering: .relaxed)
        if serviced || runLoopWakeUps.load(ordering: .relaxed) != wakeUpsBefore {
            return !deadline.hasPassed
        }
        // Refused (inside a main-queue block): main-queue work cannot run here anyway. No wake-up came
        // while the lock was released, and any later one signals the condition: sleep on it.
        return waitPlainly(until: deadline)
    }
}
