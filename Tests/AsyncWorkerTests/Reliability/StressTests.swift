import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

/// What a mixed-load run did, counted exactly.
final class Ledger: Sendable {
    let futures = Counter()
    let resolutions = Counter()
    /// Signalled once per onComplete call.
    let resolved = DispatchSemaphore(value: 0)
    let correctValues = Counter()
    let blockingCalls = Counter()
    let timeouts = Counter()
    let cancels = Counter()
    let thrown = Counter()
    let shutDown = Counter()
    let wrong = Counter()
}

@Suite("Stress: mixed load with exact accounting")
struct StressTests {
    /// One caller's mix: blocking calls, timeouts, fire-and-forget, cancels and throwing operations.
    static func mixedLoad(
        thread: Int,
        rounds: Int,
        dispatcher: TaskDispatcher,
        ledger: Ledger,
        tolerateShutdown: Bool
    ) -> [TaskFuture<Int>] {
        var futures: [TaskFuture<Int>] = []
        func track(_ future: TaskFuture<Int>) {
            ledger.futures.increment()
            future.onComplete { _ in
                ledger.resolutions.increment()
                ledger.resolved.signal()
            }
            futures.append(future)
        }
        for round in 0..<rounds {
            let expected = thread * 100_000 + round
            do {
                switch round % 5 {
                case 0:
                    let value = try dispatcher.execute({ expected }, timeout: .seconds(60))
                    ledger.blockingCalls.increment()
                    if value == expected { ledger.correctValues.increment() } else { ledger.wrong.increment() }
                case 1:
                    _ = try dispatcher.execute(
                        { () async -> Int in
                            await waitForCancellation()
                            return -1
                        },
                        timeout: .milliseconds(1)
                    )
                    ledger.wrong.increment()
                case 2:
                    track(
                        dispatcher.executeAsync { () async throws -> Int in
                            await Task.yield()
                            return expected
                        }
                    )
                case 3:
                    let future = dispatcher.executeAsync { () async throws -> Int in
                        await waitForCancellation()
                        try Task.checkCancellation()
                        return expected
                    }
                    track(future)
                    future.cancel()
                    ledger.cancels.increment()
                default:
                    track(dispatcher.executeAsync { () throws -> Int in throw Boom(code: expected) })
                }
            } catch AsyncWorkerError.timedOut {
                ledger.timeouts.increment()
            } catch AsyncWorkerError.shutDown where tolerateShutdown {
                ledger.shutDown.increment()
            } catch {
                ledger.wrong.increment()
            }
        }
        return futures
    }

    @Test("8 callers x 1,000 mixed operations: every future resolves exactly once with the right outcome")
    func mixed() {
        let worker = ThreadWorker(name: "stress-mixed")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let ledger = Ledger()
        let all = Collector<TaskFuture<Int>>()
        onRacingThreads(8) { thread in
            for future in Self.mixedLoad(
                thread: thread,
                rounds: 1_000,
                dispatcher: dispatcher,
                ledger: ledger,
                tolerateShutdown: false
            ) {
                all.append(future)
            }
        }
        // Every future's outcome, by kind.
        let futures = all.all
        let outcomes =
            watchdog(.seconds(120)) {
                futures.map { future -> String in
                    do {
                        _ = try future.result()
                        return "value"
                    } catch is Boom {
                        return "thrown"
                    } catch is CancellationError {
                        return "cancelled"
                    } catch {
                        return "unexpected \(error)"
                    }
                }
            } ?? []
        let values = outcomes.filter { $0 == "value" }.count
        let cancelled = outcomes.filter { $0 == "cancelled" }.count
        let thrown = outcomes.filter { $0 == "thrown" }.count
        #expect(ledger.wrong.count == 0)
        #expect(ledger.blockingCalls.count == 1_600)
        #expect(ledger.correctValues.count == 1_600)
        #expect(ledger.timeouts.count == 1_600)
        #expect(ledger.futures.count == 4_800)
        #expect(values == 1_600)
        #expect(cancelled == 1_600)
        #expect(thrown == 1_600)
        // onComplete handlers run exactly once per future (a handler may still be running just after its
        // future woke a waiter, so wait for each one's signal).
        for _ in 0..<4_800 { waitOrFail(ledger.resolved, "an onComplete handler") }
        #expect(ledger.resolutions.count == 4_800)
        #expect(worker.registry.pendingCount == 0)
    }

    @Test("shutdown in the middle of mixed load resolves 100% of the futures")
    func shutdownDuringMixedLoad() {
        let worker = ThreadWorker(name: "stress-stop")
        let dispatcher = TaskDispatcher(worker: worker)
        let ledger = Ledger()
        let all = Collector<TaskFuture<Int>>()
        let warmedUp = DispatchSemaphore(value: 0)
        onRacingThreads(7) { thread in
            if thread == 6 {
                for _ in 0..<6 { warmedUp.wait() }
                worker.shutdown(timeout: .milliseconds(5))
                return
            }
            for chunk in 0..<10 {
                for future in Self.mixedLoad(
                    thread: thread,
                    rounds: 100,
                    dispatcher: dispatcher,
                    ledger: ledger,
                    tolerateShutdown: true
                ) {
                    all.append(future)
                }
                if chunk == 1 { warmedUp.signal() }
            }
        }
        let futures = all.all
        #expect(futures.count == ledger.futures.count)
        #expect(futures.allSatisfy { $0.isDone })
        #expect(ledger.wrong.count == 0)
        #expect(ledger.shutDown.count > 0)
        #expect(worker.registry.pendingCount == 0)
    }
}
