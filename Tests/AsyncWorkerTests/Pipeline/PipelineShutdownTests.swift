import Dispatch
import Testing

@testable import AsyncWorker

@Suite("Pipeline shutdown", .timeLimit(.minutes(1)))
struct PipelineShutdownTests {
    @Test("shutdown drains in-flight messages, then refuses new ones")
    func shutdownDrains() {
        let worker = ThreadWorker(name: "pl-drain")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        defer { gate.open() }
        let started = DispatchSemaphore(value: 0)
        let draining = DispatchSemaphore(value: 0)
        let pipeline = Pipeline(
            GatedDomain(gate: gate, started: started, concurrency: ConcurrencyGauge()),
            worker: worker
        )
        let outputs = Collector<Int>()
        pipeline.onOutput { outputs.append($0) }
        pipeline.storage.setDrainWaitHook { draining.signal() }
        let futures = (0..<5).map { pipeline.post($0) }
        for _ in 0..<5 { waitOrFail(started, "a message to start") }
        let report = ResultBox<PipelineShutdownReport>()
        let shutdownDone = startThread { report.set(.success(pipeline.shutdown(timeout: .seconds(30)))) }
        waitOrFail(draining, "shutdown to wait for the drain")
        // Intake is closed while the five drain.
        #expect(throws: AsyncWorkerError.shutDown) { try pipeline.post(99).result(timeout: .seconds(10)) }
        #expect(throws: AsyncWorkerError.shutDown) { try pipeline.send(99, timeout: .seconds(10)) }
        gate.open()
        waitOrFail(shutdownDone, "shutdown to return")
        let finalReport = try? report.get()?.get()
        #expect(
            finalReport == PipelineShutdownReport(drainedMessages: 5, abandonedMessages: 0, wasAlreadyShutDown: false)
        )
        #expect(futures.allSatisfy { $0.isDone })
        #expect(futures.map { try? $0.result(timeout: .zero) } == [0, 1, 2, 3, 4])
        #expect(outputs.all.sorted() == [0, 1, 2, 3, 4])
        #expect(pipeline.monitor.snapshot().completedRuns == 5)
        #expect(pipeline.inFlightCount == 0)
        // The pipeline does not own the worker.
        #expect(worker.isRunning)
        #expect(watchdog { try worker.submit { 7 }.result(timeout: .seconds(10)) } == 7)
    }

    @Test("shutdown abandons what outlives the timeout: futures resolved, subscribers told, counted once")
    func shutdownAbandons() {
        let worker = ThreadWorker(name: "pl-abandon")
        let started = DispatchSemaphore(value: 0)
        let pipeline = Pipeline(HangUntilCancelled(started: started), worker: worker).then(AddOne())
        let failures = Collector<PipelineFailure<Int>>()
        pipeline.onFailure { failures.append($0) }
        let futures = (0..<3).map { pipeline.post($0) }
        for _ in 0..<3 { waitOrFail(started, "a message to start") }
        let clock = ContinuousClock()
        let begin = clock.now
        let report = watchdog { pipeline.shutdown(timeout: .milliseconds(50)) }
        #expect(clock.now - begin < .seconds(5))
        #expect(report == PipelineShutdownReport(drainedMessages: 0, abandonedMessages: 3, wasAlreadyShutDown: false))
        // Resolved by the time shutdown returns, slots freed.
        #expect(futures.allSatisfy { $0.isDone })
        for future in futures {
            #expect(throws: AsyncWorkerError.shutDown) { try future.result(timeout: .zero) }
        }
        #expect(pipeline.inFlightCount == 0)
        #expect(failures.all.map(\.input).sorted() == [0, 1, 2])
        #expect(failures.all.allSatisfy { ($0.error as? AsyncWorkerError) == .shutDown && $0.domain == nil })
        // The abandoned tasks were cancelled; once the worker has run them to the end, nothing is counted twice.
        let workerReport = worker.shutdown(timeout: .seconds(10))
        #expect(workerReport.isClean)
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.failedRuns == 3)
        #expect(snapshot.completedRuns == 0)
        #expect(failures.count == 3)
        #expect(snapshot.domains[0].failuresByType == [String(reflecting: CancellationError.self): 3])
        #expect(snapshot.domains[1].runs == 0)
    }

    @Test("a message settled but held by a slow subscriber past the deadline is resolved with its output")
    func shutdownResolvesSettledMessages() {
        let worker = ThreadWorker(name: "pl-held")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let inSubscriber = DispatchSemaphore(value: 0)
        let releaseSubscriber = DispatchSemaphore(value: 0)
        let pipeline = Pipeline(AddOne(), worker: worker)
        pipeline.onOutput { _ in
            inSubscriber.signal()
            // A misbehaving subscriber: it blocks the worker's thread until the test lets it go.
            releaseSubscriber.wait()
        }
        let future = pipeline.post(1)
        waitOrFail(inSubscriber, "the subscriber to run")
        let report = watchdog { pipeline.shutdown(timeout: .milliseconds(20)) }
        // The message had produced its output and was counted: it drained, and its future has that output.
        #expect(report == PipelineShutdownReport(drainedMessages: 1, abandonedMessages: 0, wasAlreadyShutDown: false))
        #expect(future.isDone)
        #expect((try? future.result(timeout: .zero)) == 2)
        #expect(pipeline.inFlightCount == 0)
        releaseSubscriber.signal()
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.completedRuns == 1)
        #expect(snapshot.failedRuns == 0)
    }

    @Test("shutdown wakes callers waiting for a slot with shutDown")
    func shutdownWakesSlotWaiters() {
        let worker = ThreadWorker(name: "pl-wake")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let started = DispatchSemaphore(value: 0)
        let blocked = DispatchSemaphore(value: 0)
        let pipeline = Pipeline(HangUntilCancelled(started: started), worker: worker, maxInFlight: 1)
        pipeline.storage.setSlotWaitHook { blocked.signal() }
        let first = pipeline.post(1)
        waitOrFail(started, "the first message to start")
        let waiting = ResultBox<Int>()
        let senderDone = startThread { waiting.set(Result { try pipeline.send(2) }) }
        waitOrFail(blocked, "the sender to wait for a slot")
        let report = watchdog { pipeline.shutdown(timeout: .zero) }
        #expect(report?.abandonedMessages == 1)
        waitOrFail(senderDone, "the waiting sender to be woken")
        #expect(throws: AsyncWorkerError.shutDown) { try waiting.get()?.get() }
        #expect(throws: AsyncWorkerError.shutDown) { try first.result(timeout: .zero) }
    }

    @Test("a second shutdown returns the first report; a concurrent one waits for it")
    func shutdownIsIdempotent() {
        let worker = ThreadWorker(name: "pl-twice")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(AddOne(), worker: worker)
        #expect(watchdog { try pipeline.send(1, timeout: .seconds(10)) } == 2)
        let reports = Collector<PipelineShutdownReport>()
        onRacingThreads(4) { _ in reports.append(pipeline.shutdown(timeout: .seconds(10))) }
        let all = reports.all
        #expect(all.count == 4)
        #expect(all.filter { !$0.wasAlreadyShutDown }.count == 1)
        #expect(all.allSatisfy { $0.drainedMessages == 0 && $0.abandonedMessages == 0 })
        #expect(pipeline.shutdown().wasAlreadyShutDown)
    }

    @Test("shutdown called from a domain on the worker's thread abandons at once instead of waiting")
    func shutdownFromTheWorkerThread() {
        let worker = ThreadWorker(name: "pl-selfstop")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let box = ResultBox<Pipeline<Int, Int>>()
        struct ShutItDown: AsyncDomain {
            let box: ResultBox<Pipeline<Int, Int>>
            func execute(_ input: Int) async throws -> Int {
                let report = try box.get()?.get().shutdown(timeout: .seconds(30))
                return report?.abandonedMessages ?? -1
            }
        }
        let pipeline = Pipeline(ShutItDown(box: box), worker: worker)
        box.set(.success(pipeline))
        // The domain reaches its own pipeline through the box: empty it at the end to break the cycle.
        defer { box.set(.failure(AsyncWorkerError.shutDown)) }
        // The message shuts its own pipeline down: it is abandoned (its future fails), not deadlocked.
        let outcome = withWatchdog { try pipeline.post(1).result(timeout: .seconds(10)) }
        guard case .failure(let error)? = outcome else {
            Issue.record("expected shutDown, got \(String(describing: outcome))")
            return
        }
        #expect(error as? AsyncWorkerError == .shutDown)
        #expect(pipeline.inFlightCount == 0)
        #expect(pipeline.monitor.snapshot().failedRuns == 1)
    }

    @Test("a message whose worker is shut down fails with shutDown, is counted and frees its slot")
    func workerShutDownUnderThePipeline() {
        let worker = ThreadWorker(name: "pl-dead")
        let pipeline = Pipeline(AddOne(), worker: worker, maxInFlight: 1)
        worker.shutdown(timeout: .seconds(5))
        let failures = Collector<PipelineFailure<Int>>()
        pipeline.onFailure { failures.append($0) }
        for value in 0..<3 {
            #expect(throws: AsyncWorkerError.shutDown) { try pipeline.send(value, timeout: .seconds(10)) }
        }
        #expect(pipeline.inFlightCount == 0)
        #expect(failures.count == 3)
        #expect(pipeline.monitor.snapshot().failedRuns == 3)
    }

    @Test("no message is lost when shutdown races with producers", arguments: 0..<20)
    func shutdownRacingProducers(round: Int) {
        let worker = ThreadWorker(name: "pl-race")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(AddOne(), worker: worker, maxInFlight: 4).then(Stringify())
        let outputs = Counter()
        let failures = Counter()
        pipeline.onOutput { _ in outputs.increment() }
        pipeline.onFailure { _ in failures.increment() }
        let futures = Collector<TaskFuture<String>>()
        let reports = Collector<PipelineShutdownReport>()
        onRacingThreads(4) { index in
            if index == 0 {
                reports.append(pipeline.shutdown(timeout: round % 2 == 0 ? .zero : .seconds(10)))
                return
            }
            for value in 0..<200 {
                futures.append(pipeline.post(value))
            }
        }
        #expect(reports.count == 1)
        let all = futures.all
        #expect(all.count == 600)
        #expect(all.allSatisfy { $0.isDone })
        var succeeded = 0
        var refusedOrAbandoned = 0
        for future in all {
            switch Result(catching: { try future.result(timeout: .zero) }) {
            case .success: succeeded += 1
            case .failure(let error):
                #expect(error as? AsyncWorkerError == .shutDown)
                refusedOrAbandoned += 1
            }
        }
        let snapshot = pipeline.monitor.snapshot()
        let abandoned = reports.all.first?.abandonedMessages ?? -1
        // Every accepted message is accounted for exactly once: completed or abandoned.
        #expect(snapshot.completedRuns == succeeded)
        #expect(outputs.count == succeeded)
        #expect(snapshot.failedRuns == abandoned)
        #expect(failures.count == abandoned)
        #expect(succeeded + refusedOrAbandoned == 600)
        #expect(pipeline.inFlightCount == 0)
    }
}
