import Dispatch
import Foundation
import Synchronization

/// A one-permit sleep/wake-up primitive for one blocking wait of one thread. Each thread keeps its
/// parkers and reuses them for every wait it makes, so a blocking call allocates no synchronisation object
/// of its own.
///
/// Waits can nest on one thread: a main thread waiting in a blocking call services its run loop, and a
/// main-queue block run there may make a blocking call of its own. Each nesting level gets its own parker
/// (``withCurrent(_:)``), so an inner wait can never consume the wake-up meant for the outer one.
///
/// ``unpark()`` leaves a permit that the next ``park(until:)`` consumes, so a wake-up is never lost even
/// if it comes before the owner sleeps. A stale permit (from a wait that timed out) only causes one early
/// return: every caller re-checks its own predicate in a loop.
///
/// Spin, then sleep: the owner first polls for the permit for up to ``spinBudgetNanoseconds``, yielding the CPU
/// (`sched_yield`) on every poll, and only then sleeps on a condition variable. When the waker runs on
/// another CPU (the common case for a quick operation on a 2-core machine) the hand-off completes without
/// a system call on either side; when both threads share a CPU, the yield hands the CPU to the waker
/// at once, so spinning cannot starve it. The waker pays for a `pthread_cond_signal` only when the owner
/// really sleeps (the `parked` state), as in Rust's `std::thread::park`.
@usableFromInline
final class Parker: @unchecked Sendable {
    // @unchecked: `state` is atomic; the condition variable is used only with `lock` held, as pthread
    // requires; `spinWait` is read and written only by the owner thread.
    private let lock = ConditionLock()
    private let state = Atomic<State>(.empty)
    /// The poll phase and what it learned; used only by the owner thread (in `park`).
    // Unchecked exclusivity: only the owner thread touches it (a dynamic check costs ~0.2 µs per wait).
    @exclusivity(unchecked) private var spinWait = SpinWait()

    /// Where the permit and the owner stand.
    enum State: UInt8, AtomicRepresentable {
        /// No permit; the owner is not asleep.
        case empty
        /// A permit waits for the owner.
        case notified
        /// The owner sleeps on the condition variable: an unpark must signal it.
        case parked
        /// The owner is the main thread, running the main run loop while it waits: an unpark must post
        /// a main-queue block.
        case parkedOnRunLoop
    }

    /// How long before a deadline the main thread leaves the run loop to poll the rest.
    static let runLoopGuardNanoseconds: UInt64 = 2_000_000

    /// How long the owner polls before it sleeps. Longer than a kernel wake-up on a slow-waking VM
    /// (20–50 µs): with a shorter budget, one late answer makes both sides sleep and each then wakes
    /// too late for the other's poll, so round trips stay at the wake-up cost (Benchmarks/RESULTS.md).
    static let spinBudgetNanoseconds: UInt64 = 60_000

    /// How long before a deadline a timed sleep ends, to poll the rest: covers the kernel's default
    /// timer slack (50 µs) and the wake-up latency.
    static let precisionGuardNanoseconds: UInt64 = 200_000

    /// Runs `body` with a parker of the calling thread that no enclosing wait on this thread is using.
    /// `body` parks on it (only this thread may) and hands it to wakers; it must not keep it afterwards
    /// except in places a late ``unpark()`` is harmless (a stale permit).
    @inlinable
    static func withCurrent<R, E: Error>(_ body: (Parker) throws(E) -> R) throws(E) -> R {
        let stack = ParkerStack.current
        let parker = stack.push()
        defer { stack.pop() }
        return try body(parker)
    }

    /// Sleeps until a permit is available (consuming it) or `deadline` passes.
    /// Returns `false` on timeout. Only the owning thread calls this.
    ///
    /// On the main thread, unless ``MainThreadWaiting/policy`` is ``MainThreadWaitingPolicy/block``, the
    /// sleep runs the main run loop instead (see ``parkServicingMainRunLoop(until:)``).
    ///
    /// Three phases: poll for up to ``spinBudgetNanoseconds``; sleep on the condition variable until
    /// ``precisionGuardNanoseconds`` before the deadline; poll again up to the deadline. The last phase
    /// makes timeouts precise: a timed sleep overshoots by the kernel's timer slack (50 µs by default)
    /// plus the wake-up latency, so it is asked to end early and the rest is polled.
    @usableFromInline
    func park(until deadline: Deadline) -> Bool {
        if consumePermit() { return true }
        let now = Deadline.now.nanoseconds
        if poll(until: min(now &+ Self.spinBudgetNanoseconds, deadline.nanoseconds)) { return true }
        if MainRunLoop.shouldServiceOnCurrentThread, let woken = parkServicingMainRunLoop(until: deadline) {
            return woken
        }
        return sleepAndPoll(until: deadline)
    }

    /// Sleeps on the condition variable until shortly before `deadline`, then polls the rest.
    private func sleepAndPoll(until deadline: Deadline) -> Bool {
        if deadline == .never {
            return sleep(until: .never) ?? true
        }
        let wakeEarly = Deadline(nanoseconds: deadline.nanoseconds &- Self.precisionGuardNanoseconds)
        if wakeEarly.nanoseconds > Deadline.now.nanoseconds, let woken = sleep(until: wakeEarly) {
            return woken
        }
        return poll(until: deadline.nanoseconds)
    }

    /// Sleeps on the condition variable until a permit arrives (returns `true`) or `deadline` passes
    /// (returns `nil`: the caller decides what to do with the time left).
    private func sleep(until deadline: Deadline) -> Bool? {
        lock.lock()
        defer { lock.unlock() }
        // empty → parked; if that fails a permit arrived meanwhile.
        guard state.compareExchange(expected: .empty, desired: .parked, ordering: .acquiring).exchanged
        else {
            state.store(.empty, ordering: .relaxed)
            return true
        }
        while true {
            let signalled = lock.waitPlainly(until: deadline)
            if consumePermit() { return true }
            if !signalled {
                // Leave the parked state, unless a permit slipped in at the last moment.
                return state.exchange(.empty, ordering: .acquiring) == .notified ? true : nil
            }
            // A spurious wake-up: still parked, wait again.
        }
    }

    /// Waits on the main thread while running the main run loop, so main-queue work (main-actor jobs)
    /// can run meanwhile. ``unpark()`` wakes the run loop by scheduling an empty main-queue block.
    ///
    /// Returns `nil` if the run loop refused to run (the caller is inside a main-queue block or a
    /// main-actor job, where CoreFoundation does not re-enter the main queue): the caller then sleeps
    /// plainly instead of spinning on a run loop that returns at once.
    private func parkServicingMainRunLoop(until deadline: Deadline) -> Bool? {
        guard
            state.compareExchange(expected: .empty, desired: .parkedOnRunLoop, ordering: .acquiring)
                .exchanged
        else {
            state.store(.empty, ordering: .relaxed)
            return true
        }
        // Like the condition-variable sleep, the run loop is left early and the last stretch polled; the
        // run loop returns later than asked (hundreds of µs), hence the wider guard.
        let wakeEarly = deadline == .never ? UInt64.max : deadline.nanoseconds &- Self.runLoopGuardNanoseconds
        while true {
            if consumePermit() { return true }
            let now = Deadline.now.nanoseconds
            if now >= wakeEarly {
                if state.exchange(.empty, ordering: .acquiring) == .notified { return true }
                return poll(until: deadline.nanoseconds)
            }
            if !MainRunLoop.runOnce(until: min(wakeEarly, now &+ MainRunLoop.sliceNanoseconds)) {
                // Refused: leave the run-loop state (a permit that arrived meanwhile is kept) and let the
                // caller sleep on the condition variable.
                if state.exchange(.empty, ordering: .acquiring) == .notified { return true }
                return nil
            }
        }
    }

    /// Makes a permit available and wakes the owner if it sleeps. Any thread may call this.
    @usableFromInline
    func unpark() {
        let previous = state.exchange(.notified, ordering: .releasing)
        if previous == .parkedOnRunLoop {
            // The main thread waits in its run loop: a main-queue block makes the run loop return.
            MainRunLoop.wake()
            return
        }
        guard previous == .parked else { return }
        // The owner holds `lock` from its parked transition until it waits: taking the lock here
        // guarantees the signal cannot fall between the two.
        lock.lock()
        lock.unlock()
        lock.signal()
    }

    @inline(__always)
    private func consumePermit() -> Bool {
        state.compareExchange(expected: .notified, desired: .empty, ordering: .acquiring).exchanged
    }

    /// Polls for a permit until `end` (monotonic nanoseconds): spins, then yields the CPU on every poll
    /// (see ``SpinWait``).
    private func poll(until end: UInt64) -> Bool {
        spinWait.poll(until: end) {
            state.load(ordering: .relaxed) == .notified && consumePermit()
        }
    }
}

/// The parkers of one thread, one per nesting level of its waits. Used only by its thread.
@usableFromInline
final class ParkerStack {
    // Unchecked exclusivity: only the owning thread touches them.
    @exclusivity(unchecked) private var parkers: [Parker] = []
    @exclusivity(unchecked) private var depth = 0

    /// The calling thread's stack, created on first use and released when the thread exits.
    @usableFromInline
    static var current: ParkerStack {
        if let existing = slot.currentValue { return existing }
        let stack = ParkerStack()
        slot.currentValue = stack
        return stack
    }

    private static let slot = ThreadLocal<ParkerStack>()

    /// The parker for a wait one level deeper than the waits in progress on this thread.
    @usableFromInline
    func push() -> Parker {
        defer { depth += 1 }
        if depth == parkers.count { parkers.append(Parker()) }
        return parkers[depth]
    }

    /// Ends the innermost wait.
    @usableFromInline
    func pop() {
        depth -= 1
    }
}
