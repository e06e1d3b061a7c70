import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

@Suite("Blocking-from-async diagnosis")
struct BlockingCallDiagnosticsTests {
    @Test("policy .fail: a blocking call from inside a task throws blockingInAsyncContext and starts nothing")
    func failInsideTask() async throws {
        let worker = ThreadWorker(name: "diag-fail")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker, diagnostics: BlockingCallDiagnostics(policy: .fail))
        let started = Counter()
        #expect(throws: AsyncWorkerError.blockingInAsyncContext) {
            try dispatcher.execute({ started.increment() }, timeout: .seconds(10))
        }
        // FIFO start order: once a later operation ran, the refused one would have started before it.
        #expect(try await dispatcher.executeAsync { started.count }.value == 0)
    }

    @Test("policy .fail does not affect synchronous threads outside any task")
    func failOutsideTask() {
        let worker = ThreadWorker(name: "diag-thread")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker, diagnostics: BlockingCallDiagnostics(policy: .fail))
        #expect(watchdog { try dispatcher.execute { 5 } } == 5)
    }

    @Test("policy .report calls the reporter exactly once, and the calls go through")
    func reportOnce() async {
        let worker = ThreadWorker(name: "diag-report")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let reports = Collector<BlockingCallReport>()
        let diagnostics = BlockingCallDiagnostics(policy: .report) { reports.append($0) }
        let dispatcher = TaskDispatcher(worker: worker, diagnostics: diagnostics)
        var values: [Int] = []
        for value in 0..<3 {
            values.append((try? dispatcher.execute({ value }, timeout: .seconds(30))) ?? -1)
        }
        #expect(values == [0, 1, 2])
        #expect(reports.count == 1)
        #expect(reports.all.first?.api == "execute(_:timeout:)")  // as the caller spelled it
        #expect(reports.all.first?.description.contains("await the work instead") == true)
    }

    @Test("policy .allow reports nothing; the policy can change at run time")
    func allowAndChange() async {
        let worker = ThreadWorker(name: "diag-allow")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let reports = Counter()
        let diagnostics = BlockingCallDiagnostics(policy: .allow) { _ in reports.increment() }
        let dispatcher = TaskDispatcher(worker: worker, diagnostics: diagnostics)
        #expect((try? dispatcher.execute({ 1 }, timeout: .seconds(30))) == 1)
        #expect(reports.count == 0)
        diagnostics.policy = .fail
        #expect(diagnostics.policy == .fail)
        #expect(throws: AsyncWorkerError.blockingInAsyncContext) { try dispatcher.execute { 1 } }
    }

    @Test("on the worker's own thread, wouldDeadlock wins over the task policy")
    func deadlockFirst() {
        let worker = ThreadWorker(name: "diag-dead")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker, diagnostics: BlockingCallDiagnostics(policy: .fail))
        let error = watchdog {
            try dispatcher.executeAsync { () -> String in
                do {
                    _ = try dispatcher.execute { 1 }
                    return "none"
                } catch {
                    return "\(error)"
                }
            }.result()
        }
        #expect(error == AsyncWorkerError.wouldDeadlock.description)
    }
}
