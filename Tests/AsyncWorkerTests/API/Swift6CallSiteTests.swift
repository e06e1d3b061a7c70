import Foundation
import Testing

@testable import AsyncWorker

/// A legacy class: not Sendable, as such code is.
final class LegacyReport {
    var lines: [String] = []
}

/// The spellings issue 15 asked for, and the values and messages they give.
@Suite("Swift 6 call sites")
struct Swift6CallSiteTests {
    @Test("timeout-first trailing closures: runAsyncTask, execute, TimeInterval forms")
    func timeoutFirst() throws {
        #expect(watchdog { try runAsyncTask(timeout: .seconds(10)) { 1 } } == 1)
        #expect(watchdog { try runAsyncTask(timeout: 10.0) { 2 } } == 2)
        let worker = ThreadWorker(name: "api-first")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        #expect(watchdog { try dispatcher.execute(timeout: .seconds(10)) { 3 } } == 3)
        #expect(watchdog { try dispatcher.execute(timeout: 10) { 4 } } == 4)
        #expect(watchdog { try dispatcher.execute(timeout: nil) { 5 } } == 5)
        #expect(throws: AsyncWorkerError.timedOut) { try dispatcher.execute(timeout: .zero) { 6 } }
        #expect(throws: AsyncWorkerError.timedOut) { try dispatcher.execute(timeout: -1.0) { 6 } }
    }

    @Test("a blocking call returns a fresh non-Sendable value to its one caller")
    func nonSendableResult() throws {
        let worker = ThreadWorker(name: "api-sending")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let report = try dispatcher.execute(timeout: .seconds(10)) { () async -> LegacyReport in
            let report = LegacyReport()
            report.lines.append("built on the worker")
            return report
        }
        #expect(report.lines == ["built on the worker"])
        let dictionary: [String: Any] = try dispatcher.execute({ ["count": 3] }, timeout: .seconds(10))
        #expect(dictionary["count"] as? Int == 3)
    }

    @Test("the port carries the room deadline: a blocking call at a full worker times out, nothing started")
    func roomDeadlineThroughThePort() throws {
        let worker = ThreadWorker(name: "api-room", maxPendingTasks: 1)
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = DispatchSemaphore(value: 0)
        let holder = worker.submit { gate.wait() }  // holds the only slot (and the thread)
        let dispatcher: any Dispatcher = TaskDispatcher(worker: worker)
        let started = Locked(false)
        let outcome = withWatchdog {
            try dispatcher.execute(timeout: .milliseconds(50)) { started.withLock { $0 = true } }
        }
        gate.signal()
        _ = try holder.result(timeout: .seconds(10))
        guard case .failure(let error)? = outcome else {
            Issue.record("expected .timedOut, got \(String(describing: outcome))")
            return
        }
        #expect(error as? AsyncWorkerError == .timedOut)
        #expect(worker.metrics().timedOut == 1)
        // A later task runs; the refused one never did.
        _ = try worker.submit { () }.result(timeout: .seconds(10))
        #expect(started.withLock { $0 } == false)
    }

    @Test("a Submission's room timeout bounds a direct submit on a full worker")
    func submissionRoomTimeout() throws {
        let worker = ThreadWorker(name: "api-submit", maxPendingTasks: 1)
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = DispatchSemaphore(value: 0)
        let holder = worker.submit { gate.wait() }
        let refused = watchdog { worker.submit({ 1 }, Submission(roomTimeout: .milliseconds(20))) }
        gate.signal()
        _ = try holder.result(timeout: .seconds(10))
        #expect(throws: AsyncWorkerError.timedOut) { try refused?.result(timeout: .seconds(10)) }
    }

    @Test("runAsyncBatch(outcomesOf:) runs everything and returns one Result per input, in order")
    func batchOutcomes() throws {
        struct Odd: Error, Equatable { var value: Int }
        let outcomes = watchdog {
            try runAsyncBatch(outcomesOf: 0..<6, maxConcurrency: 2, timeout: .seconds(10)) { value -> Int in
                if value % 2 == 1 { throw Odd(value: value) }
                return value * 10
            }
        }
        let values = outcomes?.map { try? $0.get() }
        #expect(values == [0, nil, 20, nil, 40, nil])
        let errors = outcomes?.compactMap { outcome -> Odd? in
            if case .failure(let error) = outcome { return error as? Odd }
            return nil
        }
        #expect(errors == [Odd(value: 1), Odd(value: 3), Odd(value: 5)])
    }

    @Test("the blocking-in-task report names the API as spelled and the caller's #fileID:#line")
    func reportNamesTheCallSite() async throws {
        let worker = ThreadWorker(name: "api-report")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let reports = Locked<[BlockingCallReport]>([])
        let diagnostics = BlockingCallDiagnostics(policy: .report) { report in reports.withLock { $0.append(report) } }
        let dispatcher = TaskDispatcher(worker: worker, diagnostics: diagnostics)
        let line = #line + 1
        _ = try dispatcher.execute(timeout: .seconds(10)) { 1 }  // inside a task: reported
        let report = try #require(reports.withLock { $0.first })
        #expect(report.api == "execute(timeout:_:)")
        #expect(report.site == "AsyncWorkerTests/Swift6CallSiteTests.swift:\(line)")
        #expect(
            report.description.contains("execute(timeout:_:) at AsyncWorkerTests/Swift6CallSiteTests.swift:\(line)")
        )
        #expect(!report.description.contains("TaskDispatcher"))
    }

    @Test("timedOut's message does not claim a cancellation for calls that cancel nothing")
    func timedOutMessage() {
        let text = AsyncWorkerError.timedOut.description
        #expect(text.hasPrefix("AsyncWorkerError.timedOut:"))
        #expect(!text.contains("a blocking call cancelled the task"))
        #expect(text.contains("BlockingIterator.next(timeout:)"))
    }

    @Test("the TimeInterval forms exist wherever a timeout is taken")
    func timeIntervalEverywhere() throws {
        let worker = ThreadWorker(name: "api-seconds")
        let pipeline = Pipeline(AddOne(), worker: worker)
        #expect(watchdog { try pipeline.send(1, timeout: 10.0) } == 2)
        #expect(watchdog { try runAsyncBatch([1, 2], maxConcurrency: 2, timeout: 10.0) { $0 } } == [1, 2])
        #expect(pipeline.shutdown(timeout: 5.0).isClean)
        #expect(worker.shutdown(timeout: 5.0).threadExited)
    }
}
