import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

/// Fails about one message in seven, by a hash of the input: "random", yet the expected count is known.
struct Flaky: AsyncDomain {
    struct Glitch: Error {}
    static func fails(_ input: Int) -> Bool { (input &* 2_654_435_761) % 7 == 0 }
    func execute(_ input: Int) async throws -> Int {
        await Task.yield()
        if Self.fails(input) { throw Glitch() }
        return input
    }
}

@Suite("Reliability: a pipeline domain failing at random under load")
struct PipelineUnderLoadTests {
    @Test("4 producers x 500 messages through a flaky domain: every message accounted for exactly once")
    func flakyDomainUnderLoad() {
        let worker = ThreadWorker(name: "pl-flaky")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(AddOne(), worker: worker, maxInFlight: 16).then(Flaky()).then(AddOne())
        let outputs = Counter()
        let failures = Counter()
        pipeline.onOutput { _ in outputs.increment() }
        pipeline.onFailure { failure in
            if failure.error is Flaky.Glitch && failure.domainIndex == 1 { failures.increment() }
        }
        let futures = Collector<(Int, TaskFuture<Int>)>()
        onRacingThreads(4) { producer in
            for index in 0..<500 {
                let input = producer * 1_000 + index
                futures.append((input, pipeline.post(input)))
            }
        }
        var expectedFailures = 0
        var wrong = 0
        for (input, future) in futures.all {
            let fails = Flaky.fails(input + 1)
            if fails { expectedFailures += 1 }
            // The timeout is the watchdog: a hung message fails the test instead of stalling it.
            do {
                let value = try future.result(timeout: .seconds(30))
                if fails || value != input + 2 { wrong += 1 }
            } catch {
                if !fails || !(error is Flaky.Glitch) { wrong += 1 }
            }
        }
        #expect(futures.count == 2_000)
        #expect(wrong == 0)
        #expect(expectedFailures > 100)  // the hash really does fail a good share
        #expect(failures.count == expectedFailures)
        #expect(outputs.count == 2_000 - expectedFailures)
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.completedRuns == 2_000 - expectedFailures)
        #expect(snapshot.failedRuns == expectedFailures)
        #expect(snapshot.domains[1].failures == expectedFailures)
        #expect(snapshot.domains[2].successes == 2_000 - expectedFailures)
        #expect(pipeline.inFlightCount == 0)
        pipeline.shutdown(timeout: .seconds(5))
    }
}
