import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

extension Bridges {
    @Suite("withWorker: a worker whose lifetime is a scope")
    struct WithWorkerTests {
        @Test("on normal return the body's value comes back and the worker is shut down")
        func normalReturn() {
            let outcome = watchdog { () throws -> (ThreadWorker, Int, String?) in
                try withWorker(name: "scoped") { worker in
                    let value = try TaskDispatcher(worker: worker).execute({ 6 * 7 }, timeout: .seconds(30))
                    let name = try worker.submit { currentThreadName() }.result(timeout: .seconds(30))
                    return (worker, value, name)
                }
            }
            #expect(outcome?.1 == 42)
            #expect(outcome?.2 == "scoped")
            let worker = outcome?.0
            #expect(worker?.isRunning == false)
            #expect(throws: AsyncWorkerError.shutDown) { try worker?.submit { 1 }.result(timeout: .zero) }
        }

        @Test("pending work drains before the scope ends (no timeout)")
        func drainsPendingWork() {
            let future = watchdog { () -> TaskFuture<Int> in
                withWorker(name: "scoped-drain") { worker in
                    worker.submit { () async -> Int in
                        for _ in 0..<20 { await Task.yield() }
                        return 5
                    }
                }
            }
            #expect(future?.isDone == true)
            #expect((try? future?.result(timeout: .zero)) == 5)
        }

        @Test("when the body throws, the error passes through and the worker is still shut down")
        func thrownError() {
            let captured = ResultBox<(ThreadWorker, TaskFuture<Int>)>()
            let outcome = withWatchdog { () throws -> Int in
                try withWorker(name: "scoped-error", shutdownTimeout: .milliseconds(50)) { worker in
                    let pending = worker.submit { () async -> Int in
                        await waitForCancellation()
                        return 1
                    }
                    captured.set(.success((worker, pending)))
                    throw LegacyError(code: 11)
                }
            }
            #expect(throws: LegacyError(code: 11)) { try outcome?.get() }
            let (worker, pending) = try! #require(try captured.get()?.get())
            #expect(!worker.isRunning)
            // The pending task was cut short at the timeout: its future is resolved, not left hanging.
            #expect(pending.isDone)
            #expect(throws: AsyncWorkerError.shutDown) { try pending.result(timeout: .zero) }
        }
    }
}
