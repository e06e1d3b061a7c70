import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

extension Bridges {
    @Suite("runAsyncBatch: many async operations from synchronous code")
    struct RunAsyncBatchTests {
        @Test("outputs come back in input order, whatever the completion order")
        func inputOrder() {
            let worker = ThreadWorker(name: "batch-order")
            let dispatcher = TaskDispatcher(worker: worker)
            let outputs = watchdog {
                try dispatcher.executeBatch(0..<20, maxConcurrency: 20) { (input: Int) async -> String in
                    // Later inputs finish first.
                    for _ in 0..<(20 - input) { await Task.yield() }
                    return "#\(input)"
                }
            }
            #expect(outputs == (0..<20).map { "#\($0)" })
            #expect(worker.shutdown(timeout: .seconds(10)).isClean)
        }

        @Test("no more than maxConcurrency operations are in flight", arguments: [1, 4])
        func concurrencyLimit(limit: Int) {
            let worker = ThreadWorker(name: "batch-limit")
            let dispatcher = TaskDispatcher(worker: worker)
            let tracker = ConcurrencyGauge()
            let started = Counter()
            let outputs = watchdog {
                try dispatcher.executeBatch(Array(0..<30), maxConcurrency: limit) { (input: Int) async -> Int in
                    tracker.enter()
                    started.increment()
                    for _ in 0..<5 { await Task.yield() }
                    tracker.leave()
                    return input * 2
                }
            }
            #expect(outputs == (0..<30).map { $0 * 2 })
            #expect(tracker.peak == limit)
            #expect(started.count == 30)
            worker.shutdown(timeout: .seconds(10))
        }

        @Test("a limit below 1 means 1")
        func limitBelowOne() {
            let worker = ThreadWorker(name: "batch-zero")
            let tracker = ConcurrencyGauge()
            let outputs = watchdog {
                try TaskDispatcher(worker: worker).executeBatch([1, 2, 3], maxConcurrency: 0) {
                    (input: Int) async -> Int in
                    tracker.enter()
                    await Task.yield()
                    tracker.leave()
                    return input
                }
            }
            #expect(outputs == [1, 2, 3])
            #expect(tracker.peak == 1)
            worker.shutdown(timeout: .seconds(10))
        }

        @Test("the first error reaches the caller unchanged; the others are cancelled, the rest never start")
        func firstErrorCancelsTheRest() {
            let worker = ThreadWorker(name: "batch-error")
            let dispatcher = TaskDispatcher(worker: worker)
            let started = Counter()
            let cancelled = Counter()
            let outcome = withWatchdog {
                try dispatcher.executeBatch(0..<20, maxConcurrency: 5) { (input: Int) async throws -> Int in
                    started.increment()
                    if input == 0 {
                        // Fail once the whole first window is running.
                        while started.count < 5 { await Task.yield() }
                        throw LegacyError(code: 3)
                    }
                    await waitForCancellation()
                    cancelled.increment()
                    throw CancellationError()
                }
            }
            #expect(throws: LegacyError(code: 3)) { try outcome?.get() }
            // The batch returns after the cancelled operations unwound, so the counts are final.
            #expect(started.count == 5)
            #expect(cancelled.count == 4)
            #expect(worker.shutdown(timeout: .seconds(10)).isClean)
        }

        @Test("timeout: the caller gets timedOut at the deadline and every operation is cancelled")
        func timeout() {
            let worker = ThreadWorker(name: "batch-timeout")
            let dispatcher = TaskDispatcher(worker: worker)
            let cancelledSignal = DispatchSemaphore(value: 0)
            let start = ContinuousClock.now
            let outcome = withWatchdog {
                try dispatcher.executeBatch(0..<3, maxConcurrency: 3, timeout: .milliseconds(50)) {
                    (_: Int) async -> Int in
                    await waitForCancellation()
                    cancelledSignal.signal()
                    return 0
                }
            }
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(throws: AsyncWorkerError.timedOut) { try outcome?.get() }
            for _ in 0..<3 { waitOrFail(cancelledSignal, "an operation to see the cancellation") }
            #expect(worker.shutdown(timeout: .seconds(10)).isClean)
        }

        @Test("a zero timeout starts nothing; empty inputs give an empty array")
        func edgeCases() {
            let worker = ThreadWorker(name: "batch-edges")
            let dispatcher = TaskDispatcher(worker: worker)
            let started = Counter()
            #expect(throws: AsyncWorkerError.timedOut) {
                try dispatcher.executeBatch([1, 2], maxConcurrency: 2, timeout: .zero) { (input: Int) async -> Int in
                    started.increment()
                    return input
                }
            }
            #expect(started.count == 0)
            let empty = watchdog {
                try dispatcher.executeBatch([Int](), maxConcurrency: 4) { (input: Int) async -> Int in input }
            }
            #expect(empty == [])
            worker.shutdown(timeout: .seconds(10))
        }

        @Test("a batch on the worker's own thread throws wouldDeadlock")
        func wouldDeadlock() {
            let worker = ThreadWorker(name: "batch-self")
            let dispatcher = TaskDispatcher(worker: worker)
            let outcome = withWatchdog {
                try worker.submit { () throws -> [Int] in
                    try dispatcher.executeBatch([1], maxConcurrency: 1) { (input: Int) async -> Int in input }
                }.result(timeout: watchdogLimit)
            }
            #expect(throws: AsyncWorkerError.wouldDeadlock) { try outcome?.get() }
            worker.shutdown(timeout: .seconds(10))
        }

        @Test("runAsyncBatch runs the operations on the shared worker")
        func globalBatch() {
            let names = watchdog {
                try runAsyncBatch(["a", "b", "c"], maxConcurrency: 2, timeout: .seconds(30)) {
                    (input: String) async -> String in
                    "\(input):\(currentThreadName() ?? "unnamed")"
                }
            }
            #expect(names == ["a:AsyncWorker", "b:AsyncWorker", "c:AsyncWorker"])
        }
    }
}
