import Dispatch
import Foundation
import Testing

/// Generous limit for things that should happen: CI runs under ThreadSanitizer on 2 shared cores.
let watchdogLimit: Duration = .seconds(30)

/// Runs `body` on a helper thread and waits for it with a deadline, so a hang becomes a recorded test
/// failure instead of a stuck test run. Returns the body's result, or `nil` if it hung or threw
/// (the error is recorded as an issue unless `expectingError` lets the caller inspect it).
@discardableResult
func withWatchdog<T: Sendable>(
    _ limit: Duration = watchdogLimit,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () throws -> T
) -> Result<T, any Error>? {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    let thread = Thread {
        box.set(Result { try body() })
        done.signal()
    }
    thread.stackSize = 1 << 20
    thread.start()
    let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
    if done.wait(timeout: .now() + seconds) == .timedOut {
        Issue.record("watchdog: the body did not finish within \(limit) (a hang)", sourceLocation: sourceLocation)
        return nil
    }
    return box.get()
}

/// Like ``withWatchdog(_:sourceLocation:_:)`` but records any thrown error as a failure and returns the value.
func watchdog<T: Sendable>(
    _ limit: Duration = watchdogLimit,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () throws -> T
) -> T? {
    switch withWatchdog(limit, sourceLocation: sourceLocation, body) {
    case .success(let value)?: return value
    case .failure(let error)?:
        Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
        return nil
    case nil: return nil
    }
}

/// Waits for `semaphore` with a generous deadline; records a failure instead of hanging.
@discardableResult
func waitOrFail(
    _ semaphore: DispatchSemaphore,
    _ what: String = "event",
    limit: Duration = watchdogLimit,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
    let seconds = Double(limit.components.seconds)
    if semaphore.wait(timeout: .now() + seconds) == .timedOut {
        Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
        return false
    }
    return true
}

/// A value written by one thread and read by another after a semaphore orders them.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is accessed only under `lock`.
    private let lock = NSLock()
    private var value: Result<T, any Error>?
    func set(_ newValue: Result<T, any Error>) { lock.withLock { value = newValue } }
    func get() -> Result<T, any Error>? { lock.withLock { value } }
}

/// A thread-safe counter/collector for tests.
final class Collector<Element: Sendable>: @unchecked Sendable {
    // @unchecked: `items` is accessed only under `lock`.
    private let lock = NSLock()
    private var items: [Element] = []
    func append(_ item: Element) { lock.withLock { items.append(item) } }
    var all: [Element] { lock.withLock { items } }
    var count: Int { lock.withLock { items.count } }
}

/// The current thread's name, from synchronous code (`Thread.current` is unavailable in async code).
func currentThreadName() -> String? { Thread.current.name }

/// An operation body that ends only when its task is cancelled.
func waitForCancellation() async {
    let stream = AsyncStream<Never> { _ in }
    for await _ in stream {}
}

/// Waits until `condition` holds, polling (and yielding the CPU), for at most the watchdog limit; records a
/// failure otherwise. For state that has no event to wait on (a job reaching a queue).
@discardableResult
func eventually(
    _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) -> Bool {
    let deadline = ContinuousClock.now + watchdogLimit
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record("timed out waiting until \(what)", sourceLocation: sourceLocation)
            return false
        }
        sched_yield()
    }
    return true
}
