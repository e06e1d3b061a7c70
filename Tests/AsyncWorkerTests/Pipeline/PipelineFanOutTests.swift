import Dispatch
import Synchronization
import Testing

@testable import AsyncWorker

@Suite("Pipeline fan-out and failure isolation", .timeLimit(.minutes(1)))
struct PipelineFanOutTests {
    @Test("each subscriber sees each output and each failure exactly once, under concurrent producers")
    func subscribersSeeEachMessageOnce() {
        let worker = ThreadWorker(name: "pl-fanout")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(RejectOdd(), worker: worker, maxInFlight: 16).then(AddOne())
        let outputs = (0..<3).map { _ in Collector<Int>() }
        let failures = (0..<2).map { _ in Collector<Int>() }
        for collector in outputs {
            pipeline.onOutput { collector.append($0) }
        }
        for collector in failures {
            pipeline.onFailure { failure in
                #expect(failure.domain == "RejectOdd")
                collector.append(failure.input)
            }
        }
        let producers = 4
        let perProducer = 100
        let futures = Collector<TaskFuture<Int>>()
        onRacingThreads(producers) { producer in
            for index in 0..<perProducer {
                futures.append(pipeline.post(producer * perProducer + index))
            }
        }
        _ = watchdog { futures.all.map { try? $0.result(timeout: .seconds(10)) } }

        let inputs = 0..<(producers * perProducer)
        let expectedOutputs = inputs.filter { $0 % 2 == 0 }.map { $0 + 1 }
        let expectedFailures = inputs.filter { $0 % 2 != 0 }
        for collector in outputs {
            #expect(collector.all.sorted() == expectedOutputs)
        }
        for collector in failures {
            #expect(collector.all.sorted() == expectedFailures)
        }
    }

    @Test("subscribers have run when send returns, before the future resolves")
    func subscribersRunBeforeTheFutureResolves() {
        let worker = ThreadWorker(name: "pl-order")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(AddOne(), worker: worker)
        let seen = Collector<Int>()
        pipeline.onOutput { seen.append($0) }
        for value in 0..<50 {
            _ = watchdog { try pipeline.send(value, timeout: .seconds(10)) }
            // Deterministic: the subscriber ran before the send's future resolved.
            #expect(seen.count == value + 1)
            #expect(pipeline.monitor.snapshot().completedRuns == value + 1)
        }
    }

    @Test("a subscriber may re-enter the pipeline (subscribe, snapshot, post) without deadlock or miscount")
    func reentrantSubscriber() {
        let worker = ThreadWorker(name: "pl-reenter")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(AddOne(), worker: worker, maxInFlight: 1)
        let lateSubscriber = Collector<Int>()
        let followUps = Collector<TaskFuture<Int>>()
        let snapshots = Collector<Int>()
        pipeline.onOutput { output in
            snapshots.append(pipeline.monitor.snapshot().completedRuns)
            if output == 1 {
                pipeline.onOutput { lateSubscriber.append($0) }
                // maxInFlight is 1 and this message still holds its slot: on the worker's thread, post
                // must not wait for one.
                followUps.append(pipeline.post(100))
            }
        }
        let first = watchdog { try pipeline.send(0, timeout: .seconds(10)) }
        #expect(first == 1)
        let followUp = watchdog { try followUps.all.first?.result(timeout: .seconds(10)) }
        #expect(followUp == 101)
        #expect(lateSubscriber.all == [101])
        #expect(snapshots.all == [1, 2])
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.completedRuns == 2)
        #expect(snapshot.failedRuns == 0)
        // The subscriber captures the pipeline: shutdown releases subscribers and so breaks the cycle
        // (AddressSanitizer's leak check in CI fails if it does not).
        weak let weakPipeline = pipeline
        pipeline.shutdown(timeout: .seconds(5))
        _ = consume pipeline
        // The messages' tasks drop their closures on the worker thread a moment after their futures
        // resolve; with the cycle broken the pipeline goes then (bounded wait; a cycle fails the test).
        #expect(eventually("the pipeline to be freed") { weakPipeline == nil })
    }

    @Test("a slow subscriber delays messages but cannot change the counts")
    func slowSubscriberKeepsCountsExact() {
        let worker = ThreadWorker(name: "pl-slow")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(RejectOdd(), worker: worker, maxInFlight: 4)
        let slowCalls = Counter()
        pipeline.onOutput { _ in
            // Busy work on the worker's thread, as a careless subscriber would do.
            var accumulator = 0
            for index in 0..<20_000 { accumulator &+= index }
            if accumulator != 0 { slowCalls.increment() }
        }
        pipeline.onFailure { _ in slowCalls.increment() }
        let summary = watchdog { try pipeline.run(0..<200) }
        #expect(summary?.succeeded == 100)
        #expect(summary?.failed == 100)
        #expect(slowCalls.count == 200)
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.completedRuns == 100)
        #expect(snapshot.failedRuns == 100)
        #expect(snapshot.domains[0].successes == 100)
        #expect(snapshot.domains[0].failures == 100)
    }

    @Test("a domain that throws fails only that message; later domains skip it and later messages flow")
    func failureIsolation() {
        let worker = ThreadWorker(name: "pl-isolate")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let afterRuns = Counter()
        let pipeline = Pipeline(AddOne(), worker: worker).then(RejectOdd()).then(CountingDomain(runs: afterRuns))
        var outcomes: [Result<Int, any Error>] = []
        for value in 0..<10 {
            outcomes.append(
                withWatchdog { try pipeline.send(value, timeout: .seconds(10)) } ?? .failure(CancellationError())
            )
        }
        for (value, outcome) in outcomes.enumerated() {
            switch outcome {
            case .success(let output):
                #expect(value % 2 == 1 && output == value + 1)
            case .failure(let error):
                #expect(value % 2 == 0)
                #expect(error as? OddNumberError == OddNumberError(value: value + 1))
            }
        }
        #expect(afterRuns.count == 5)
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.domains.map(\.successes) == [10, 5, 5])
        #expect(snapshot.domains.map(\.failures) == [0, 5, 0])
        #expect(snapshot.completedRuns == 5)
        #expect(snapshot.failedRuns == 5)
    }
}
