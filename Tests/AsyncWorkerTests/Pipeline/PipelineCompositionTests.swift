import Testing

@testable import AsyncWorker

@Suite("Pipeline composition", .timeLimit(.minutes(1)))
struct PipelineCompositionTests {
    @Test("then composes typed stages and runs them in order")
    func thenComposesStagesInOrder() {
        let worker = ThreadWorker(name: "pl-compose")
        defer { worker.shutdown(timeout: .seconds(5)) }
        // The annotation checks, at compile time, the type `then` infers.
        let pipeline: Pipeline<Int, Int> = Pipeline(AddOne(), worker: worker).then(Stringify()).then(CountCharacters())
        #expect(pipeline.domainNames == ["AddOne", "Stringify", "CountCharacters"])
        #expect(watchdog { try pipeline.send(9, timeout: .seconds(10)) } == 2)  // 9 + 1 = "10", 2 characters
        #expect(watchdog { try pipeline.send(98, timeout: .seconds(10)) } == 2)
        #expect(watchdog { try pipeline.send(99, timeout: .seconds(10)) } == 3)
    }

    @Test("the result-builder spelling builds the same pipeline")
    func resultBuilderSpelling() {
        let worker = ThreadWorker(name: "pl-builder")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(worker: worker, maxInFlight: 4) {
            AddOne()
            Stringify()
            CountCharacters()
        }
        let typed: Pipeline<Int, Int> = pipeline
        #expect(typed.domainNames == ["AddOne", "Stringify", "CountCharacters"])
        #expect(typed.maxInFlight == 4)
        #expect(watchdog { try typed.send(999, timeout: .seconds(10)) } == 4)
    }

    @Test("then carries the configuration and starts with fresh counts")
    func thenCarriesConfiguration() {
        let worker = ThreadWorker(name: "pl-config")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let first = Pipeline(AddOne(), worker: worker, maxInFlight: 3, monitorWindow: 7)
        _ = watchdog { try first.send(1, timeout: .seconds(10)) }
        let longer = first.then(AddOne())
        #expect(longer.maxInFlight == 3)
        #expect(longer.monitor.windowSize == 7)
        #expect(longer.monitor.snapshot().completedRuns == 0)
        #expect(first.monitor.snapshot().completedRuns == 1)
        #expect(watchdog { try longer.send(1, timeout: .seconds(10)) } == 3)
    }

    @Test("out-of-range settings are clamped to 1")
    func clampsSettings() {
        let pipeline = Pipeline(AddOne(), worker: ThreadWorker(name: "pl-clamp"), maxInFlight: 0, monitorWindow: -5)
        #expect(pipeline.maxInFlight == 1)
        #expect(pipeline.monitor.windowSize == 1)
    }

    @Test("a domain's custom name is what the monitor reports")
    func customDomainName() {
        let worker = ThreadWorker(name: "pl-name")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(Renamed(), worker: worker).then(AddOne())
        #expect(pipeline.domainNames == ["renamed-step", "AddOne"])
        _ = watchdog { try pipeline.send(1, timeout: .seconds(10)) }
        #expect(pipeline.monitor.snapshot()[domain: "renamed-step"]?.successes == 1)
    }

    @Test("every domain runs on the given worker's thread")
    func domainsRunOnTheGivenWorker() {
        let worker = ThreadWorker(name: "pl-thread")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let onWorker = Counter()
        let pipeline = Pipeline(ThreadProbe(worker: worker, onWorker: onWorker), worker: worker)
            .then(ThreadProbe(worker: worker, onWorker: onWorker))
        let futures = (0..<10).map { pipeline.post($0) }
        let values = watchdog { try futures.map { try $0.result(timeout: .seconds(10)) } }
        #expect(values == Array(0..<10))
        #expect(onWorker.count == 20)
    }

    @Test("without a worker, the pipeline runs on the shared worker and leaves it running")
    func usesTheSharedWorkerByDefault() {
        let onShared = Counter()
        let pipeline = Pipeline(ThreadProbe(worker: sharedDispatcher.worker, onWorker: onShared))
        #expect(watchdog { try pipeline.send(5, timeout: .seconds(10)) } == 5)
        #expect(onShared.count == 1)
        let report = pipeline.shutdown(timeout: .seconds(5))
        #expect(report.isClean)
        #expect(sharedDispatcher.worker.isRunning)
        #expect(watchdog { try runAsyncTask({ 41 + 1 }, timeout: .seconds(10)) } == 42)
    }
}
