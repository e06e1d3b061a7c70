import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

@Suite("Load: contention and volume with exact accounting")
struct LoadTests {
    @Test("16 threads x 2,000 blocking calls each get exactly their own results")
    func contention() {
        let worker = ThreadWorker(name: "contention")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let mismatches = Counter()
        let calls = Counter()
        onRacingThreads(16) { thread in
            for call in 0..<2_000 {
                let expected = thread * 1_000_000 + call
                do {
                    let value = try dispatcher.execute({ expected }, timeout: .seconds(60))
                    if value != expected { mismatches.increment() }
                    calls.increment()
                } catch {
                    mismatches.increment()
                }
            }
        }
        #expect(calls.count == 32_000)
        #expect(mismatches.count == 0)
    }

    @Test("200,000 fire-and-forget tasks all resolve with the right values")
    func volume() {
        let worker = ThreadWorker(name: "volume")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let count = 200_000
        let completions = Counter()
        let futures = (0..<count).map { index in
            let future = worker.submit { index &* 3 }
            future.onComplete { _ in completions.increment() }
            return future
        }
        let total = watchdog(.seconds(120)) {
            var sum = 0
            for (index, future) in futures.enumerated() {
                let value = try future.result()
                if value != index &* 3 { return -1 }
                sum &+= value
            }
            return sum
        }
        #expect(total == 3 * (count * (count - 1) / 2))
        #expect(completions.count == count)
        #expect(worker.registry.pendingCount == 0)
    }
}
