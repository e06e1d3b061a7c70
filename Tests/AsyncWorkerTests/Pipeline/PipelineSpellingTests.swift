import Foundation
import Testing

@testable import AsyncWorker

/// `Pipeline { … }` runs a message through a ``DomainChain`` specialised as one function; `then` runs it
/// through one closure per domain. These tests hold the two spellings to the same behaviour.
@Suite("Pipeline spellings: builder chain and then", .timeLimit(.minutes(1)))
struct PipelineSpellingTests {
    enum Spelling: String, CaseIterable, CustomTestStringConvertible {
        case then, builder
        var testDescription: String { rawValue }
    }

    @Test("both spellings count, time and report failures per domain the same way", arguments: Spelling.allCases)
    func sameMonitorAndFailures(spelling: Spelling) {
        let worker = ThreadWorker(name: "pl-spelling-\(spelling)")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline: Pipeline<Int, String> =
            switch spelling {
            case .then: Pipeline(AddOne(), worker: worker, monitorWindow: 16).then(RejectOdd()).then(Stringify())
            case .builder:
                Pipeline(worker: worker, monitorWindow: 16) {
                    AddOne()
                    RejectOdd()
                    Stringify()
                }
            }
        let failures = Collector<PipelineFailure<Int>>()
        let outputs = Collector<String>()
        pipeline.onFailure { failures.append($0) }
        pipeline.onOutput { outputs.append($0) }
        #expect(pipeline.domainNames == ["AddOne", "RejectOdd", "Stringify"])
        let summary = watchdog { try pipeline.run(0..<40) }
        #expect(summary?.succeeded == 20)
        #expect(summary?.failed == 20)
        #expect(outputs.all.sorted() == (0..<40).filter { $0 % 2 == 1 }.map { String($0 + 1) }.sorted())
        // Inputs 0, 2, 4, … become odd after AddOne and fail in RejectOdd, with its own error.
        #expect(failures.all.map(\.input).sorted() == (0..<40).filter { $0 % 2 == 0 })
        #expect(failures.all.allSatisfy { $0.domain == "RejectOdd" && $0.domainIndex == 1 })
        #expect(failures.all.allSatisfy { ($0.error as? OddNumberError)?.value == $0.input + 1 })
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.domains.map(\.successes) == [40, 20, 20])
        #expect(snapshot.domains.map(\.failures) == [0, 20, 0])
        #expect(snapshot.domains.map(\.sampleCount) == [16, 16, 16])
        #expect(snapshot.domains[1].failuresByType == [String(reflecting: OddNumberError.self): 20])
        #expect(snapshot.completedRuns == 20)
        #expect(snapshot.failedRuns == 20)
    }

    @Test("both spellings stop a cancelled message at the next domain boundary", arguments: Spelling.allCases)
    func cancelledAtBoundary(spelling: Spelling) {
        let worker = ThreadWorker(name: "pl-boundary-\(spelling)")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let started = DispatchSemaphore(value: 0)
        let laterRuns = Counter()
        let first = ReturnWhenCancelled(started: started)
        let pipeline: Pipeline<Int, Int> =
            switch spelling {
            case .then: Pipeline(first, worker: worker).then(CountingDomain(runs: laterRuns))
            case .builder:
                Pipeline(worker: worker) {
                    first
                    CountingDomain(runs: laterRuns)
                }
            }
        let future = pipeline.post(1)
        waitOrFail(started, "the first domain to start")
        future.cancel()
        let outcome = withWatchdog { try future.result(timeout: .seconds(10)) }
        guard case .failure(let error)? = outcome else {
            Issue.record("expected CancellationError, got \(String(describing: outcome))")
            return
        }
        #expect(error is CancellationError)
        // The first domain returned normally; the boundary check ended the message before the second.
        #expect(laterRuns.count == 0)
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.domains[0].successes == 1)
        #expect(snapshot.domains[1].runs == 0)
        #expect(snapshot.failedRuns == 1)
    }

    @Test("a builder chain of one domain, and of many, keeps every domain's index")
    func builderIndices() {
        let worker = ThreadWorker(name: "pl-builder-indices")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let single = Pipeline(worker: worker) { AddOne() }
        #expect(watchdog { try single.send(1, timeout: .seconds(10)) } == 2)
        #expect(single.monitor.snapshot().domains.map(\.successes) == [1])
        let long = Pipeline(worker: worker) {
            AddOne()
            AddOne()
            AddOne()
            AddOne()
            AddOne()
            RejectOdd()
        }
        #expect(long.domainNames == ["AddOne", "AddOne", "AddOne", "AddOne", "AddOne", "RejectOdd"])
        #expect(watchdog { try long.send(1, timeout: .seconds(10)) } == 6)
        let failures = Collector<PipelineFailure<Int>>()
        long.onFailure { failures.append($0) }
        let outcome = withWatchdog { try long.send(2, timeout: .seconds(10)) }
        guard case .failure(let error)? = outcome else {
            Issue.record("expected OddNumberError, got \(String(describing: outcome))")
            return
        }
        #expect(error as? OddNumberError == OddNumberError(value: 7))
        #expect(failures.all.map(\.domainIndex) == [5])
        #expect(long.monitor.snapshot().domains.map(\.successes) == [2, 2, 2, 2, 2, 1])
    }
}

/// Waits until its message is cancelled, then returns its input normally (so only a check between
/// domains can stop the message).
struct ReturnWhenCancelled: AsyncDomain {
    let started: DispatchSemaphore
    func execute(_ input: Int) async throws -> Int {
        started.signal()
        await waitForCancellation()
        return input
    }
}
