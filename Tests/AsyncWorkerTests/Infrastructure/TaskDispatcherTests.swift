import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

@Suite("TaskDispatcher: blocking calls, timeouts, deadlock detection")
struct TaskDispatcherTests {
    @Test("execute returns the operation's value")
    func returnsValue() {
        let worker = ThreadWorker(name: "exec-value")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        #expect(watchdog { try dispatcher.execute { "hello" } } == "hello")
        #expect(watchdog { try dispatcher.execute({ 21 * 2 }, timeout: .seconds(30)) } == 42)
        #expect(watchdog { try dispatcher.execute({ 7 }, timeout: 30.0) } == 7)
    }

    @Test("the operation's own error reaches the caller unchanged, even a timedOut of its own")
    func errorsPassThrough() {
        let worker = ThreadWorker(name: "exec-error")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let boom = withWatchdog { try dispatcher.execute { () throws -> Int in throw Boom(code: 99) } }
        #expect(throws: Boom(code: 99)) { try boom?.get() }
        let own = withWatchdog {
            try dispatcher.execute({ () throws -> Int in throw AsyncWorkerError.timedOut }, timeout: .seconds(30))
        }
        #expect(throws: AsyncWorkerError.timedOut) { try own?.get() }
    }

    @Test("a timeout returns at the deadline even while the worker thread is blocked, then cancels the task")
    func timeoutWhileThreadBlocked() {
        let worker = ThreadWorker(name: "exec-blocked")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let release = DispatchSemaphore(value: 0)
        let sawCancellation = DispatchSemaphore(value: 0)
        let start = ContinuousClock.now
        let outcome = withWatchdog {
            try dispatcher.execute(
                { () -> Int in
                    release.wait()  // badly behaved: holds the thread
                    if Task.isCancelled { sawCancellation.signal() }
                    return 1
                },
                timeout: .milliseconds(100)
            )
        }
        let elapsed = ContinuousClock.now - start
        #expect(throws: AsyncWorkerError.timedOut) { try outcome?.get() }
        #expect(elapsed >= .milliseconds(100))
        #expect(elapsed < .seconds(3))
        release.signal()
        #expect(waitOrFail(sawCancellation, "the task to see its cancellation"))
    }

    @Test("a timeout cancels a cooperative task")
    func timeoutCancels() {
        let worker = ThreadWorker(name: "exec-cancel")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let cancelled = DispatchSemaphore(value: 0)
        let outcome = withWatchdog {
            try dispatcher.execute(
                { () -> Int in
                    await waitForCancellation()
                    cancelled.signal()
                    return 0
                },
                timeout: .milliseconds(20)
            )
        }
        #expect(throws: AsyncWorkerError.timedOut) { try outcome?.get() }
        #expect(waitOrFail(cancelled, "cancellation"))
    }

    @Test(
        "zero and negative timeouts throw timedOut without starting the operation",
        arguments: [Duration.zero, .nanoseconds(-1), .seconds(-10), .seconds(Int64.min)]
    )
    func nonPositiveTimeouts(timeout: Duration) {
        let worker = ThreadWorker(name: "exec-zero")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let started = Counter()
        #expect(throws: AsyncWorkerError.timedOut) {
            try dispatcher.execute({ started.increment() }, timeout: timeout)
        }
        // Operations start in FIFO order: once a later one has run, an earlier one would have started.
        #expect(watchdog { try dispatcher.execute { started.count } } == 0)
    }

    @Test("TimeInterval timeouts: NaN and negative time out at once; infinite and huge mean no timeout")
    func timeIntervalTimeouts() {
        let worker = ThreadWorker(name: "exec-seconds")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        for seconds in [Double.nan, -1, 0, -Double.infinity] {
            #expect(throws: AsyncWorkerError.timedOut) { try dispatcher.execute({ 1 }, timeout: seconds) }
        }
        for seconds in [Double.infinity, 1e300, Double.greatestFiniteMagnitude] {
            #expect(watchdog { try dispatcher.execute({ 2 }, timeout: seconds) } == 2)
        }
    }

    @Test("a huge Duration timeout means no timeout: no overflow, no trap")
    func hugeDuration() {
        let worker = ThreadWorker(name: "exec-huge")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let value = watchdog {
            try dispatcher.execute(
                { () async throws -> Int in
                    try await Task.sleep(for: .milliseconds(5))
                    return 3
                },
                timeout: .seconds(Int64.max)
            )
        }
        #expect(value == 3)
    }

    @Test("blocking calls on the worker's own thread throw wouldDeadlock at once, whatever the timeout")
    func wouldDeadlockFromOperation() {
        let worker = ThreadWorker(name: "exec-dead")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let second = TaskDispatcher(worker: worker)
        let errors = watchdog {
            try dispatcher.execute { () -> [AsyncWorkerError?] in
                var errors: [AsyncWorkerError?] = []
                for attempt in 0..<3 {
                    do {
                        switch attempt {
                        case 0: _ = try dispatcher.execute { 1 }
                        case 1: _ = try dispatcher.execute({ 1 }, timeout: .seconds(10))
                        default: _ = try second.execute { 1 }  // another dispatcher, same worker
                        }
                        errors.append(nil)
                    } catch {
                        errors.append(error as? AsyncWorkerError)
                    }
                }
                return errors
            }
        }
        #expect(errors == [.wouldDeadlock, .wouldDeadlock, .wouldDeadlock])
    }

    @Test("an onComplete handler on the worker's thread gets wouldDeadlock for a blocking call")
    func wouldDeadlockFromHandler() {
        let worker = ThreadWorker(name: "exec-handler")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let result = ResultBox<String>()
        let handled = DispatchSemaphore(value: 0)
        let gate = AsyncGate()
        let future = dispatcher.executeAsync {
            await gate.wait()
            return 1
        }
        future.onComplete { _ in
            // Runs on the worker's thread, which resolves the future.
            result.set(Result { try dispatcher.execute { "unreachable" } })
            handled.signal()
        }
        gate.open()
        waitOrFail(handled, "handler")
        #expect(throws: AsyncWorkerError.wouldDeadlock) { try result.get()?.get() }
    }

    @Test("blocking on a different worker from inside a worker is allowed")
    func crossWorkerBlocking() {
        let outer = ThreadWorker(name: "outer")
        let inner = ThreadWorker(name: "inner")
        defer {
            outer.shutdown(timeout: .seconds(5))
            inner.shutdown(timeout: .seconds(5))
        }
        let outerDispatcher = TaskDispatcher(worker: outer)
        let innerDispatcher = TaskDispatcher(worker: inner)
        let value = watchdog {
            try outerDispatcher.execute { try innerDispatcher.execute { currentThreadName() ?? "?" } }
        }
        #expect(value == "inner")
    }

    @Test("after the worker shut down, execute throws shutDown and executeAsync fails with shutDown")
    func afterShutdown() {
        let worker = ThreadWorker(name: "exec-after")
        let dispatcher = TaskDispatcher(worker: worker)
        #expect(watchdog { try dispatcher.execute { 1 } } == 1)
        worker.shutdown(timeout: .seconds(5))
        #expect(throws: AsyncWorkerError.shutDown) { try dispatcher.execute { 1 } }
        #expect(throws: AsyncWorkerError.shutDown) { try dispatcher.executeAsync { 1 }.result() }
    }
}
