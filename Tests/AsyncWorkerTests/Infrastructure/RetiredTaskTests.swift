import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

/// A result whose release the tests watch.
final class Payload: Sendable {}

@Suite("Finished tasks are dropped by submitting threads, and nothing else is kept back")
struct RetiredTaskTests {
    @Test("finished tasks wait for a later submission in small batches, never piling up")
    func retiredStayBounded() throws {
        let worker = ThreadWorker(name: "retire-bound")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        var peak = 0
        for round in 0..<200 {
            var last: TaskFuture<Int>?
            for index in 0..<50 { last = dispatcher.executeAsync { round + index } }
            let final = last
            _ = watchdog { try final?.result() }
            peak = max(peak, worker.registry.retiredCount)
        }
        // 10,000 tasks finished; each submission drops a batch once one is ready.
        #expect(peak <= 8 * PendingRegistry.retiredBatch)
        // (A task leaves the registry just after resolving its future: the last one may lag a moment.)
        #expect(eventually("every task to be counted") { worker.metrics().completed == 10_000 })
    }

    @Test("a blocking call's result is released once the caller drops it: futures are not kept back")
    func resultsAreNotRetained() throws {
        let worker = ThreadWorker(name: "retire-result")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        weak var released: Payload?
        do {
            let payload = watchdog { try dispatcher.execute { Payload() } }
            released = payload
            #expect(released != nil)
        }
        #expect(eventually("the result to be released") { released == nil })
        weak var forgotten: Payload?
        do {
            let future = dispatcher.executeAsync { Payload() }
            forgotten = watchdog { try future.result() }
        }
        #expect(eventually("the fire-and-forget result to be released") { forgotten == nil })
    }
}
