import Dispatch
import Foundation
import Synchronization
import Testing

@testable import AsyncWorker

/// An async gate: tasks that `wait()` stay suspended until `open()` (from any thread). Ignores
/// cancellation on purpose, so it also models an operation that does not honour cancellation.
final class AsyncGate: Sendable {
    private let state = Locked<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let openAlready = state.withLock { state in
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if openAlready { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Releases `count` threads at once, to make them race.
final class Barrier: Sendable {
    private let arrived = Atomic<Int>(0)
    private let count: Int
    private let release = DispatchSemaphore(value: 0)

    init(count: Int) { self.count = count }

    func arriveAndWait() {
        if arrived.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == count {
            for _ in 0..<count { release.signal() }
        }
        release.wait()
    }
}

/// Runs `body(i)` on `count` new threads released together; returns when all have finished
/// (or records a failure after the watchdog limit).
func onRacingThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let barrier = Barrier(count: count)
    let finished = DispatchSemaphore(value: 0)
    for index in 0..<count {
        let thread = Thread {
            barrier.arriveAndWait()
            body(index)
            finished.signal()
        }
        thread.start()
    }
    for _ in 0..<count { waitOrFail(finished, "racing thread") }
}

/// A counter any thread may bump.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    @discardableResult
    func increment() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }
    var count: Int { value.load(ordering: .relaxed) }
}

/// How many callers are inside a region now, and the most there ever were.
final class ConcurrencyGauge: Sendable {
    private let state = Locked((current: 0, peak: 0))
    func enter() {
        state.withLock { state in
            state.current += 1
            state.peak = max(state.peak, state.current)
        }
    }
    func leave() { state.withLock { $0.current -= 1 } }
    var current: Int { state.withLock { $0.current } }
    var peak: Int { state.withLock { $0.peak } }
}
