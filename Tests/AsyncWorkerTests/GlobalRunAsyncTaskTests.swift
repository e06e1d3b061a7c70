import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

/// The only tests that use the process-wide shared worker; none of them shuts it down.
@Suite("runAsyncTask on the shared worker", .serialized)
struct GlobalRunAsyncTaskTests {
    @Test("a trailing closure blocks and returns the value, on the shared worker's thread")
    func blockingTrailingClosure() {
        let name = watchdog { try runAsyncTask { currentThreadName() } }
        #expect(name == "AsyncWorker")
        let sum = watchdog { try runAsyncTask({ 40 + 2 }, timeout: .seconds(30)) }
        #expect(sum == 42)
        #expect(watchdog { try runAsyncTask({ "legacy" }, timeout: 30.0) } == "legacy")
    }

    @Test("fire-and-forget returns a future at once")
    func fireAndForget() {
        let gate = AsyncGate()
        let future = runAsyncTask(fireAndForget: {
            await gate.wait()
            return "report"
        })
        #expect(!future.isDone)
        gate.open()
        #expect(watchdog { try future.result(timeout: .seconds(30)) } == "report")
    }

    @Test("timeout on the shared worker returns at the deadline and cancels")
    func sharedTimeout() {
        let start = ContinuousClock.now
        let outcome = withWatchdog {
            try runAsyncTask(
                { () async throws -> Int in
                    try await Task.sleep(for: .seconds(60))
                    return 0
                },
                timeout: .milliseconds(50)
            )
        }
        #expect(throws: AsyncWorkerError.timedOut) { try outcome?.get() }
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test("many threads making their first call at once share one worker")
    func racingFirstCalls() {
        let names = Collector<String>()
        onRacingThreads(8) { _ in
            if let name = try? runAsyncTask({ currentThreadName() ?? "?" }, timeout: .seconds(30)) {
                names.append(name)
            }
        }
        #expect(names.all == Array(repeating: "AsyncWorker", count: 8))
    }

    @Test("a blocking call from the shared worker's own thread throws wouldDeadlock")
    func sharedDeadlock() {
        let outcome = withWatchdog {
            try runAsyncTask { () -> String in
                do {
                    _ = try runAsyncTask { 1 }
                    return "no error"
                } catch {
                    return "\(error)"
                }
            }
        }
        #expect((try? outcome?.get()) == AsyncWorkerError.wouldDeadlock.description)
    }
}
