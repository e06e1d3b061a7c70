import Dispatch
import Foundation
import Synchronization
import Testing

@testable import AsyncWorker

struct Boom: Error, Equatable {
    let code: Int
}

@Suite("TaskFuture: waiting, awaiting, observing, cancelling")
struct TaskFutureTests {
    @Test("every one of many blocked waiters gets the same value")
    func manyWaiters() {
        let worker = ThreadWorker(name: "future-many")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        let future = worker.submit {
            await gate.wait()
            return 42
        }
        let results = Collector<Int>()
        let started = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<8 {
            Thread {
                started.signal()
                if let value = try? future.result(timeout: .seconds(30)) { results.append(value) }
                finished.signal()
            }.start()
        }
        for _ in 0..<8 { waitOrFail(started, "waiter start") }
        #expect(!future.isDone)
        gate.open()
        for _ in 0..<8 { waitOrFail(finished, "waiter") }
        #expect(results.all == Array(repeating: 42, count: 8))
        #expect(future.isDone)
    }

    @Test("result's timeout throws timedOut and leaves the task running; a later result gets the value")
    func resultTimeoutKeepsTask() throws {
        let worker = ThreadWorker(name: "future-timeout")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        let future = worker.submit {
            await gate.wait()
            return "late"
        }
        let start = ContinuousClock.now
        #expect(throws: AsyncWorkerError.timedOut) { try future.result(timeout: .milliseconds(50)) }
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(throws: AsyncWorkerError.timedOut) { try future.result(timeout: .zero) }
        #expect(throws: AsyncWorkerError.timedOut) { try future.result(timeout: -1.0) }
        #expect(!future.isDone)
        gate.open()
        #expect(watchdog { try future.result() } == "late")
        #expect(try future.result(timeout: .zero) == "late")
    }

    @Test("the task's own error reaches every waiter unchanged")
    func errorPassesThrough() {
        let worker = ThreadWorker(name: "future-error")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let future: TaskFuture<Int> = worker.submit { throw Boom(code: 7) }
        for _ in 0..<2 {
            let outcome = withWatchdog { try future.result() }
            #expect(throws: Boom(code: 7)) { try outcome?.get() }
        }
    }

    @Test("cancel delivers the task's own outcome: CancellationError")
    func cancelGivesCancellationError() {
        let worker = ThreadWorker(name: "future-cancel")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let running = DispatchSemaphore(value: 0)
        let future = worker.submit { () async throws -> Int in
            running.signal()
            await waitForCancellation()
            try Task.checkCancellation()
            return 1
        }
        waitOrFail(running, "task start")
        future.cancel()
        let outcome = withWatchdog { try future.result() }
        #expect(throws: CancellationError.self) { try outcome?.get() }
    }

    @Test("cancel before the task runs still reaches it")
    func cancelBeforeStart() {
        let worker = ThreadWorker(name: "future-early")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let blocker = DispatchSemaphore(value: 0)
        // Hold the thread so the second task cannot start before it is cancelled.
        let holder = worker.submit { blocker.wait() }
        let future = worker.submit { Task.isCancelled }
        future.cancel()
        blocker.signal()
        #expect(watchdog { try future.result() } == true)
        _ = try? holder.result(timeout: .seconds(30))
    }

    @Test("a task that catches cancellation and returns a value delivers that value")
    func cancelledTaskValue() {
        let worker = ThreadWorker(name: "future-catch")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let running = DispatchSemaphore(value: 0)
        let future = worker.submit { () async -> String in
            running.signal()
            await waitForCancellation()
            return "stopped politely"
        }
        waitOrFail(running, "task start")
        future.cancel()
        #expect(watchdog { try future.result() } == "stopped politely")
    }

    @Test("cancelling a finished future changes nothing")
    func cancelAfterFinish() throws {
        let worker = ThreadWorker(name: "future-done")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let future = worker.submit { 5 }
        #expect(watchdog { try future.result() } == 5)
        future.cancel()
        future.cancel()
        #expect(try future.result(timeout: .zero) == 5)
        #expect(future.isDone)
    }

    @Test("onComplete handlers run exactly once, in order, and at once when the future is done")
    func onCompleteExactlyOnce() {
        let worker = ThreadWorker(name: "future-handlers")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        let future = worker.submit {
            await gate.wait()
            return 3
        }
        let calls = Collector<String>()
        let allCalled = DispatchSemaphore(value: 0)
        for name in ["a", "b", "c"] {
            future.onComplete { result in
                calls.append("\(name)=\((try? result.get()) ?? -1)")
                if name == "c" { allCalled.signal() }
            }
        }
        gate.open()
        waitOrFail(allCalled, "handlers")
        _ = try? future.result(timeout: .seconds(30))
        // Registered after completion: runs at once, on this thread.
        future.onComplete { result in calls.append("late=\((try? result.get()) ?? -1)") }
        #expect(calls.all == ["a=3", "b=3", "c=3", "late=3"])
    }

    @Test("keyed handlers receive their key, interleave in order with plain ones, and run at once when done")
    func keyedHandlers() {
        let worker = ThreadWorker(name: "future-keyed")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        let future = worker.submit {
            await gate.wait()
            return 4
        }
        let calls = Collector<String>()
        let allCalled = DispatchSemaphore(value: 0)
        // One shared handler, as a pipeline registers it for every message.
        let shared: @Sendable (UInt64, Result<Int, any Error>) -> Void = { key, result in
            calls.append("\(key)=\((try? result.get()) ?? -1)")
            if key == 9 { allCalled.signal() }
        }
        future.onComplete(key: 7, shared)
        future.onComplete { result in calls.append("plain=\((try? result.get()) ?? -1)") }
        future.onComplete(key: 9, shared)
        gate.open()
        waitOrFail(allCalled, "handlers")
        future.onComplete(key: 11, shared)
        #expect(calls.all == ["7=4", "plain=4", "9=4", "11=4"])
    }

    @Test("a handler runs without any lock held: it may use the future and add handlers")
    func handlerReentrancy() {
        let worker = ThreadWorker(name: "future-reenter")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        let future = worker.submit {
            await gate.wait()
            return 8
        }
        let nested = DispatchSemaphore(value: 0)
        let observed = Collector<String>()
        future.onComplete { _ in
            observed.append("done=\(future.isDone)")
            future.cancel()
            future.onComplete { result in
                observed.append("nested=\((try? result.get()) ?? -1)")
                nested.signal()
            }
        }
        gate.open()
        waitOrFail(nested, "nested handler")
        #expect(observed.all == ["done=true", "nested=8"])
    }

    @Test("value awaits the outcome from async code")
    func awaitValue() async throws {
        let worker = ThreadWorker(name: "future-await")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        let future = worker.submit {
            await gate.wait()
            return 11
        }
        async let value = future.value
        gate.open()
        #expect(try await value == 11)
        #expect(try await future.value == 11)
        let failing: TaskFuture<Int> = worker.submit { throw Boom(code: 2) }
        await #expect(throws: Boom(code: 2)) { try await failing.value }
    }

    @Test("cancelling the awaiting task ends the wait, not the work")
    func awaitCancellation() async throws {
        let worker = ThreadWorker(name: "future-await-c")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        let future = worker.submit {
            await gate.wait()
            return "finished anyway"
        }
        let waiter = Task { try await future.value }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(!future.isDone)
        gate.open()
        #expect(try await future.value == "finished anyway")
    }

    @Test("result on the worker's own thread throws wouldDeadlock at once, with or without timeout")
    func resultOnWorkerThread() {
        let worker = ThreadWorker(name: "future-deadlock")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        let pending = worker.submit {
            await gate.wait()
            return 1
        }
        let finished = worker.submit { 2 }
        _ = try? finished.result(timeout: .seconds(30))
        let outcome = watchdog {
            try worker.submit { () -> [String] in
                var errors: [String] = []
                for timeout in [nil, Duration.seconds(5), .zero] {
                    do {
                        _ = try pending.result(timeout: timeout)
                    } catch {
                        errors.append("\(error)")
                    }
                }
                // A finished future returns its value even here.
                let value = try finished.result()
                return errors + ["finished=\(value)"]
            }.result()
        }
        let deadlock = AsyncWorkerError.wouldDeadlock.description
        #expect(outcome == [deadlock, deadlock, deadlock, "finished=2"])
        gate.open()
    }

    @Test("racing cancel, completion and waiters resolve every future exactly once", arguments: 0..<3)
    func races(round: Int) {
        let worker = ThreadWorker(name: "future-race-\(round)")
        defer { worker.shutdown(timeout: .seconds(5)) }
        for _ in 0..<200 {
            let future = worker.submit { () async throws -> Int in
                await Task.yield()
                try Task.checkCancellation()
                return 1
            }
            let handlerCalls = Counter()
            let bothHandlersRan = DispatchSemaphore(value: 0)
            let countHandler: @Sendable (Result<Int, any Error>) -> Void = { _ in
                if handlerCalls.increment() == 2 { bothHandlersRan.signal() }
            }
            future.onComplete(countHandler)
            let outcomes = Collector<String>()
            onRacingThreads(3) { index in
                switch index {
                case 0: future.cancel()
                case 1: outcomes.append((try? future.result(timeout: .seconds(30))).map { "\($0)" } ?? "error")
                default: future.onComplete(countHandler)
                }
            }
            #expect(future.isDone)
            // The second handler may run on the worker's thread just after the waiter woke.
            waitOrFail(bothHandlersRan, "both handlers")
            #expect(handlerCalls.count == 2)
            #expect(outcomes.count == 1)
        }
    }
}
