import Foundation
import Synchronization

/// The poll phase of a wait: spin on a flag, then poll it yielding the CPU, learning from each wait how
/// long spinning is worth it. Owned by one thread (a ``Parker``'s owner, a ``ExecutorThread``'s thread).
///
/// Why both phases, and why learn: on a 2-CPU VM a kernel wake-up costs 20–50 µs, more than a round
/// trip (3–5 µs), so neither side should sleep while the other is about to answer. When the two threads
/// run on different CPUs, spinning on the flag is the fastest way to see the answer (a `sched_yield` per
/// poll costs ~0.2 µs of system call and lets the scheduler migrate the thread). When they share a CPU —
/// a 1-CPU container, `taskset`, or the scheduler placing them together — spinning only delays the other
/// thread until the spinner yields or is preempted, so there each poll must yield. The spin phase is
/// therefore bounded by ``spinLimit``, which a wait adjusts from what it saw: the flag set while spinning
/// keeps it; the flag set after a yield that gave the CPU to another thread (the yield took long) means
/// the answer needed this CPU, so it halves; the flag set after quick yields means the answer came from
/// another CPU just after the spin ended, so it doubles. Once it reaches zero, one wait in
/// ``reprobeInterval`` tries a short spin again, so a thread moved to a free CPU learns it back.
struct SpinWait {
    /// The longest spin phase, in nanoseconds.
    static let maximumSpinNanoseconds: UInt64 = 40_000

    /// The spin phase tried again, once in ``reprobeInterval`` waits, after the limit fell to zero.
    static let reprobeSpinNanoseconds: UInt64 = 2_000

    static let reprobeInterval: UInt32 = 256

    /// A yield (or a gap between two clock reads while spinning) longer than this means another thread
    /// ran on this CPU meanwhile: an empty `sched_yield` takes ~0.2 µs, a switch there and back more.
    static let switchedYieldNanoseconds: UInt64 = 1_000

    /// Set by the environment variable `ASYNC_WORKER_NO_SPIN` (any value): no poll phase at all, every
    /// wait sleeps at once. For `.ci/cost-check` only: under valgrind, which runs one thread at a time, a
    /// spinning thread retires instructions until its time slice ends, so counts would depend on timing.
    static let isPollingDisabled = ProcessInfo.processInfo.environment["ASYNC_WORKER_NO_SPIN"] != nil

    /// The most threads of the process in a poll phase at once: one per CPU. Waiters beyond it sleep at
    /// once. Without the cap, 16 threads making blocking calls on one worker on 2 CPUs all polled, the
    /// worker got a sixteenth of a CPU, and under ThreadSanitizer a caller fell 30 s behind the others
    /// (`LoadTests`, 2 runs in 4).
    static let maximumPollers = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Threads in a poll phase now.
    private static let pollers = Atomic<Int>(0)

    /// How long the next spin phase may last, in nanoseconds.
    private(set) var spinLimit: UInt64 = maximumSpinNanoseconds
    private var waitsWithoutSpin: UInt32 = 0
    private let isDisabled = SpinWait.isPollingDisabled

    /// Polls `isReady` until it returns `true` (then returns `true`) or the monotonic clock reaches `end`
    /// nanoseconds (then returns `false`): first spinning, for up to ``spinLimit``, then yielding the CPU
    /// before each poll.
    @inline(__always)
    mutating func poll(until end: UInt64, _ isReady: () -> Bool) -> Bool {
        if isReady() { return true }
        if isDisabled { return false }
        // One CPU per poller: with more, polling threads would take the CPU from the thread they wait for.
        guard Self.pollers.wrappingAdd(1, ordering: .relaxed).newValue <= Self.maximumPollers else {
            Self.pollers.wrappingSubtract(1, ordering: .relaxed)
            return isReady()
        }
        defer { Self.pollers.wrappingSubtract(1, ordering: .relaxed) }
        return pollPhases(until: end, isReady)
    }

    @inline(__always)
    private mutating func pollPhases(until end: UInt64, _ isReady: () -> Bool) -> Bool {
        var now = Deadline.now.nanoseconds
        var limit = spinLimit
        if limit == 0 {
            waitsWithoutSpin &+= 1
            if waitsWithoutSpin >= Self.reprobeInterval {
                waitsWithoutSpin = 0
                limit = Self.reprobeSpinNanoseconds
            }
        }
        // Set when the thread lost its CPU meanwhile (a gap in the clock): then the answer, if it comes
        // now, came from a thread that needed this CPU.
        var yieldedToOther = false
        if limit > 0 {
            let spinEnd = min(end, now &+ limit)
            while true {
                // Check the clock every 64 polls: a load of a flag owned by another core's cache
                // takes tens of nanoseconds, the clock ~20 ns.
                for _ in 0..<64 {
                    if isReady() {
                        if yieldedToOther { learn(answerNeededThisCPU: true) }
                        return true
                    }
                }
                let after = Deadline.now.nanoseconds
                if after &- now > Self.switchedYieldNanoseconds { yieldedToOther = true }
                now = after
                if now >= spinEnd { break }
            }
        }
        while now < end {
            OSThread.yield()
            let after = Deadline.now.nanoseconds
            if after &- now > Self.switchedYieldNanoseconds { yieldedToOther = true }
            now = after
            if isReady() {
                learn(answerNeededThisCPU: yieldedToOther)
                return true
            }
        }
        return false
    }

    private mutating func learn(answerNeededThisCPU: Bool) {
        if answerNeededThisCPU {
            spinLimit /= 2
            if spinLimit < Self.reprobeSpinNanoseconds { spinLimit = 0 }
        } else {
            spinLimit = min(Self.maximumSpinNanoseconds, max(Self.reprobeSpinNanoseconds, spinLimit &* 2))
        }
    }
}
