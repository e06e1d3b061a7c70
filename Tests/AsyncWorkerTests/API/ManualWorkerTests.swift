import Foundation
import Testing

@testable import AsyncWorker

/// The deterministic worker: nothing runs until the test says so, on the test's own thread.
@Suite("ManualWorker")
struct ManualWorkerTests {
    @Test("a submitted task runs only at runUntilIdle, on the calling thread")
    func runsOnlyWhenAsked() throws {
        let worker = ManualWorker()
        defer { worker.shutdown() }
        let ranOn = Locked<UInt?>(nil)
        let future = worker.submit { () -> Int in
            ranOn.withLock { $0 = OSThread.currentID }
            return 42
        }
        #expect(!future.isDone)
        #expect(worker.queuedJobCount == 1)
        #expect(ranOn.withLock { $0 } == nil)
        #expect(worker.runUntilIdle() >= 1)
        #expect(future.isDone)
        #expect(try future.result() == 42)
        #expect(ranOn.withLock { $0 } == OSThread.currentID)
        #expect(worker.pendingTaskCount == 0)
    }

    @Test("tasks start in submission order")
    func fifo() throws {
        let worker = ManualWorker()
        defer { worker.shutdown() }
        let order = Locked<[Int]>([])
        for index in 0..<5 {
            _ = worker.submit { order.withLock { $0.append(index) } }
        }
        worker.runUntilIdle()
        #expect(order.withLock { $0 } == [0, 1, 2, 3, 4])
    }

    @Test("blocking calls throw wouldDeadlock at once, from any thread; a finished future's result works")
    func blockingCallsRefused() throws {
        let worker = ManualWorker()
        defer { worker.shutdown() }
        let dispatcher = TaskDispatcher(worker: worker)
        #expect(throws: AsyncWorkerError.wouldDeadlock) { try dispatcher.execute { 1 } }
        #expect(throws: AsyncWorkerError.wouldDeadlock) { try dispatcher.execute(timeout: .seconds(1)) { 1 } }
        let future = dispatcher.executeAsync { 7 }
        #expect(throws: AsyncWorkerError.wouldDeadlock) { try future.result(timeout: .seconds(1)) }
        let fromOtherThread = watchdog { () -> Bool in
            do {
                _ = try future.result(timeout: .seconds(1))
                return false
            } catch {
                return error as? AsyncWorkerError == .wouldDeadlock
            }
        }
        #expect(fromOtherThread == true)
        worker.runUntilIdle()
        #expect(try future.result() == 7)
    }

    @Test("a sleep on the manual clock resumes only when the test advances it, in deadline order")
    func manualClock() throws {
        let worker = ManualWorker()
        defer { worker.shutdown() }
        let clock = worker.clock
        let order = Locked<[String]>([])
        let late = worker.submit {
            try await clock.sleep(for: .seconds(10))
            order.withLock { $0.append("late") }
        }
        let early = worker.submit {
            try await clock.sleep(for: .seconds(3))
            order.withLock { $0.append("early") }
        }
        worker.runUntilIdle()
        #expect(!late.isDone && !early.isDone)
        worker.advance(by: .seconds(2))
        #expect(!early.isDone)
        worker.advance(by: .seconds(1))
        #expect(early.isDone && !late.isDone)
        #expect(clock.now == ManualClock.Instant(offset: .seconds(3)))
        worker.advance(by: .seconds(100))
        #expect(late.isDone)
        #expect(order.withLock { $0 } == ["early", "late"])
        try late.result()
    }

    @Test("a pipeline runs on a manual worker: post, runUntilIdle, read the futures and the monitor")
    func pipelineOnManualWorker() throws {
        let worker = ManualWorker()
        defer { worker.shutdown() }
        let pipeline = Pipeline(AddOne(), worker: worker, maxInFlight: 2).then(RejectOdd())
        let outputs = Locked<[Int]>([])
        pipeline.onOutput { value in outputs.withLock { $0.append(value) } }
        let futures = (0..<4).map { pipeline.post($0) }  // beyond maxInFlight: never waits here
        #expect(futures.allSatisfy { !$0.isDone })
        #expect(throws: AsyncWorkerError.wouldDeadlock) { try pipeline.send(1) }
        worker.runUntilIdle()
        #expect(try futures[1].result() == 2)
        #expect(try futures[3].result() == 4)
        #expect(throws: OddNumberError(value: 1)) { try futures[0].result() }
        #expect(outputs.withLock { $0 } == [2, 4])
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.completedRuns == 2 && snapshot.failedRuns == 2)
        #expect(pipeline.shutdown().abandonedMessages == 0)
    }

    @Test("shutdown drains what can run, abandons what waits forever, then refuses work")
    func shutdown() throws {
        let worker = ManualWorker()
        let clock = worker.clock
        let ready = worker.submit { 1 }
        let asleep = worker.submit { try await clock.sleep(for: .seconds(60)) }
        let report = worker.shutdown()
        #expect(report.drainedTasks == 1)
        #expect(report.abandonedTasks == 1)
        #expect(try ready.result() == 1)
        #expect(throws: AsyncWorkerError.shutDown) { try asleep.result() }
        #expect(throws: AsyncWorkerError.shutDown) { try worker.submit { 2 }.result() }
        #expect(throws: AsyncWorkerError.shutDown) { try worker.start() }
        #expect(worker.shutdown().wasAlreadyShutDown)
    }

    @Test("withWorker scopes any worker")
    func withAnyWorker() throws {
        let worker = ManualWorker()
        let future = withWorker(worker) { worker in worker.submit { "done" } }
        #expect(!worker.isRunning)
        #expect(try future.result() == "done")  // drained by the shutdown at the end of the scope
    }
}
