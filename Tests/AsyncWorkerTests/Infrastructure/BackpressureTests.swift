import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

@Suite("Backpressure: maxPendingTasks bounds what a producer can queue")
struct BackpressureTests {
    @Test("at the limit a submission waits until a pending task finishes")
    func submitterWaits() {
        let worker = ThreadWorker(name: "bounded", maxPendingTasks: 3)
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gates = (0..<3).map { _ in AsyncGate() }
        let held = gates.map { gate in
            worker.submit {
                await gate.wait()
                return 1
            }
        }
        #expect(worker.registry.pendingCount == 3)
        let submitted = DispatchSemaphore(value: 0)
        let fourth = ResultBox<TaskFuture<Int>>()
        Thread {
            fourth.set(.success(worker.submit { 4 }))
            submitted.signal()
        }.start()
        // Proves something did *not* happen: the fourth submission is still waiting.
        #expect(submitted.wait(timeout: .now() + 0.1) == .timedOut)
        gates[0].open()
        #expect(waitOrFail(submitted, "the waiting submission to proceed"))
        #expect(watchdog { try fourth.get()?.get().result() } == 4)
        for gate in gates.dropFirst() { gate.open() }
        #expect(held.compactMap { try? $0.result(timeout: .seconds(30)) } == [1, 1, 1])
    }

    @Test("a submission from the worker's own thread never waits for room")
    func workerThreadBypasses() {
        let worker = ThreadWorker(name: "bounded-self", maxPendingTasks: 1)
        defer { worker.shutdown(timeout: .seconds(5)) }
        let value = watchdog {
            try worker.submit { () async throws -> Int in
                // One task (this one) is pending: a waiting submission here would never end.
                let inner = worker.submit { 41 }
                return try await inner.value + 1
            }.result()
        }
        #expect(value == 42)
    }

    @Test("shutdown wakes a submitter waiting for room, which gets shutDown")
    func shutdownWakesSubmitters() {
        let worker = ThreadWorker(name: "bounded-stop", maxPendingTasks: 1)
        let gate = AsyncGate()
        let held = worker.submit {
            await gate.wait()
            return 1
        }
        let outcome = ResultBox<Int>()
        let returned = DispatchSemaphore(value: 0)
        Thread {
            outcome.set(Result { try worker.submit { 2 }.result(timeout: .seconds(30)) })
            returned.signal()
        }.start()
        #expect(returned.wait(timeout: .now() + 0.1) == .timedOut)
        let report = worker.shutdown(timeout: .milliseconds(10))
        #expect(waitOrFail(returned, "the waiting submitter"))
        #expect(throws: AsyncWorkerError.shutDown) { try outcome.get()?.get() }
        #expect(throws: AsyncWorkerError.shutDown) { try held.result(timeout: .zero) }
        #expect(report.abandonedTasks == 1)
        gate.open()
    }

    @Test("a fast producer stays within the bound")
    func producerBounded() {
        let worker = ThreadWorker(name: "bounded-prod", maxPendingTasks: 64)
        defer { worker.shutdown(timeout: .seconds(5)) }
        let maxSeen = Counter()
        let futures = (0..<5_000).map { index in
            let future = worker.submit { () async -> Int in
                await Task.yield()
                return index
            }
            let pending = worker.registry.pendingCount
            while maxSeen.count < pending { maxSeen.increment() }
            return future
        }
        #expect(maxSeen.count <= 64)
        #expect(watchdog { try futures.reduce(0) { $0 + (try $1.result()) } } == 5_000 * 4_999 / 2)
    }
}
