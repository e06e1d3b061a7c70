import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

@Suite("Shutdown: drain, cancel, resolve everything, join")
struct ShutdownTests {
    @Test("pending tasks that finish within the timeout are drained, not abandoned")
    func drains() {
        let worker = ThreadWorker(name: "drain")
        let futures = (0..<50).map { index in
            worker.submit { () async throws -> Int in
                for _ in 0..<10 { await Task.yield() }
                try await Task.sleep(for: .milliseconds(20))
                return index
            }
        }
        let report = watchdog { worker.shutdown(timeout: .seconds(20)) }
        #expect(report?.abandonedTasks == 0)
        #expect(report?.threadExited == true)
        #expect((report?.drainedTasks ?? -1) <= 50)
        let values = futures.map { try? $0.result(timeout: .zero) }
        #expect(values == (0..<50).map { Optional($0) })
    }

    @Test("at the deadline, what remains is cancelled and resolved with shutDown")
    func abandonsAtDeadline() {
        let worker = ThreadWorker(name: "abandon")
        let cancelled = Counter()
        let futures = (0..<20).map { _ in
            worker.submit { () async -> Int in
                await waitForCancellation()
                cancelled.increment()
                return 1
            }
        }
        let start = ContinuousClock.now
        let report = watchdog { worker.shutdown(timeout: .milliseconds(50)) }
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(report?.abandonedTasks == 20)
        #expect(report?.drainedTasks == 0)
        #expect(report?.threadExited == true)
        for future in futures {
            #expect(future.isDone)
            #expect(throws: AsyncWorkerError.shutDown) { try future.result(timeout: .zero) }
        }
        // The cancelled tasks unwound on the thread before it exited.
        #expect(cancelled.count == 20)
    }

    @Test("an operation that ignores cancellation and holds the thread: shutdown returns and says so")
    func stuckOperation() {
        let worker = ThreadWorker(name: "stuck")
        let release = DispatchSemaphore(value: 0)
        let running = DispatchSemaphore(value: 0)
        let future = worker.submit { () -> Int in
            running.signal()
            release.wait()
            return 1
        }
        waitOrFail(running, "operation start")
        let start = ContinuousClock.now
        let report = watchdog { worker.shutdown(timeout: .milliseconds(100)) }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(5))
        #expect(report?.threadExited == false)
        #expect(report?.abandonedTasks == 1)
        #expect(report?.isClean == false)
        #expect(throws: AsyncWorkerError.shutDown) { try future.result(timeout: .zero) }
        release.signal()
    }

    @Test("calling shutdown again is harmless and returns the first report")
    func idempotent() throws {
        let worker = ThreadWorker(name: "twice")
        try worker.start()
        let first = worker.shutdown(timeout: .seconds(5))
        let second = worker.shutdown(timeout: .seconds(5))
        #expect(first.isClean)
        #expect(!first.wasAlreadyShutDown)
        #expect(second.wasAlreadyShutDown)
        #expect(second.threadExited == first.threadExited)
    }

    @Test("concurrent shutdown calls all return after everything is resolved")
    func concurrentShutdown() {
        let worker = ThreadWorker(name: "racing-stop")
        let futures = (0..<100).map { _ in
            worker.submit { () async -> Int in
                await waitForCancellation()
                return 0
            }
        }
        let reports = Collector<ShutdownReport>()
        onRacingThreads(4) { _ in
            reports.append(worker.shutdown(timeout: .milliseconds(20)))
            // Whoever returns, every future is resolved by then.
            for future in futures where !future.isDone { Issue.record("a future was left pending") }
        }
        #expect(reports.count == 4)
        #expect(reports.all.filter { !$0.wasAlreadyShutDown }.count == 1)
        #expect(reports.all.allSatisfy { $0.abandonedTasks == 100 })
    }

    @Test("shutdown from the worker's own thread returns without joining itself")
    func shutdownFromOwnThread() {
        let worker = ThreadWorker(name: "self-stop")
        let reportBox = ResultBox<ShutdownReport>()
        let returned = DispatchSemaphore(value: 0)
        let future = worker.submit { () -> Int in
            reportBox.set(.success(worker.shutdown(timeout: .seconds(10))))
            returned.signal()
            return 5
        }
        waitOrFail(returned, "shutdown called from the worker to return")
        let report = try? reportBox.get()?.get()
        #expect(report?.threadExited == false)
        #expect(report?.abandonedTasks == 1)  // the calling task itself was still pending
        #expect(!worker.isRunning)
        #expect(throws: AsyncWorkerError.shutDown) { try future.result(timeout: .seconds(10)) }
        #expect(worker.thread.join(until: Deadline.after(.seconds(30))))
    }

    @Test("a worker that never started shuts down cleanly and rejects work")
    func neverStarted() {
        let worker = ThreadWorker(name: "unused")
        let report = worker.shutdown(timeout: .seconds(1))
        #expect(report.isClean)
        #expect(report.drainedTasks == 0)
        #expect(throws: AsyncWorkerError.shutDown) { try worker.submit { 1 }.result(timeout: .zero) }
    }

    @Test("a task resumed after its worker stopped still runs: jobs are never dropped")
    func lateJobsRun() {
        let worker = ThreadWorker(name: "late")
        let parked = ContinuationBox()
        let resumedAndFinished = DispatchSemaphore(value: 0)
        let suspended = DispatchSemaphore(value: 0)
        let future = worker.submit { () async -> Int in
            // Ignores cancellation: stays suspended until resumed from outside.
            await withCheckedContinuation { continuation in
                parked.store(continuation)
                suspended.signal()
            }
            resumedAndFinished.signal()
            return 1
        }
        waitOrFail(suspended, "the task to suspend")
        let report = watchdog { worker.shutdown(timeout: .milliseconds(20)) }
        #expect(report?.abandonedTasks == 1)
        #expect(report?.threadExited == true)
        #expect(throws: AsyncWorkerError.shutDown) { try future.result(timeout: .zero) }
        parked.resume()
        #expect(waitOrFail(resumedAndFinished, "the late job to run"))
    }

    @Test("shutdown in the middle of load resolves every future")
    func shutdownUnderLoad() {
        let worker = ThreadWorker(name: "under-load")
        let futures = Collector<TaskFuture<Int>>()
        let submitted = DispatchSemaphore(value: 0)
        onRacingThreads(5) { index in
            if index == 4 {
                for _ in 0..<4 { submitted.wait() }
                worker.shutdown(timeout: .milliseconds(10))
                return
            }
            for round in 0..<2_000 {
                futures.append(
                    worker.submit { () async throws -> Int in
                        try await Task.sleep(for: .microseconds(Int64(round % 50)))
                        return round
                    }
                )
                if round == 100 { submitted.signal() }
            }
        }
        let all = futures.all
        #expect(all.count == 8_000)
        var values = 0
        var shutDown = 0
        for future in all {
            guard future.isDone else {
                Issue.record("pending future after shutdown")
                continue
            }
            do {
                _ = try future.result(timeout: .zero)
                values += 1
            } catch AsyncWorkerError.shutDown {
                shutDown += 1
            } catch {
                Issue.record("unexpected outcome \(error)")
            }
        }
        #expect(values + shutDown == 8_000)
        #expect(shutDown > 0)
    }
}

/// Holds a continuation so a test can resume it later, from any thread.
final class ContinuationBox: @unchecked Sendable {
    // @unchecked: `continuation` is accessed only under `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    func store(_ continuation: CheckedContinuation<Void, Never>) { lock.withLock { self.continuation = continuation } }
    func resume() {
        let continuation = lock.withLock {
            defer { self.continuation = nil }
            return self.continuation
        }
        continuation?.resume()
    }
}
