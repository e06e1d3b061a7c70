import Dispatch
import Testing

@testable import AsyncWorker

@Suite("Pipeline send, post and run", .timeLimit(.minutes(1)))
struct PipelineDrivingTests {
    @Test("send returns the output and rethrows a domain's own error unchanged")
    func sendReturnsOrRethrows() {
        let worker = ThreadWorker(name: "pl-send")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(RejectOdd(), worker: worker).then(AddOne())
        #expect(watchdog { try pipeline.send(4, timeout: .seconds(10)) } == 5)
        let failed = withWatchdog { try pipeline.send(7, timeout: .seconds(10)) }
        guard case .failure(let error)? = failed else {
            Issue.record("expected a failure, got \(String(describing: failed))")
            return
        }
        #expect(error as? OddNumberError == OddNumberError(value: 7))
    }

    @Test("post returns a future of the output; a domain's error fails only that future")
    func postReturnsFutures() {
        let worker = ThreadWorker(name: "pl-post")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(RejectOdd(), worker: worker).then(AddOne())
        let futures = (0..<20).map { pipeline.post($0) }
        let results = watchdog { futures.map { future in Result { try future.result(timeout: .seconds(10)) } } } ?? []
        #expect(results.count == 20)
        for (input, result) in results.enumerated() {
            switch result {
            case .success(let value): #expect(input % 2 == 0 && value == input + 1)
            case .failure(let error): #expect(error as? OddNumberError == OddNumberError(value: input))
            }
        }
        #expect(futures.allSatisfy { $0.isDone })
    }

    @Test("the future's value can be awaited from async code")
    func postFutureValueIsAwaitable() async throws {
        let worker = ThreadWorker(name: "pl-await")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(AddOne(), worker: worker)
        let future = pipeline.post(41)
        #expect(try await future.value == 42)
    }

    @Test("send on the worker's own thread throws wouldDeadlock; so does run")
    func sendOnWorkerThreadThrows() {
        let worker = ThreadWorker(name: "pl-deadlock")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(AddOne(), worker: worker)
        let sendFuture = worker.submit { try pipeline.send(1, timeout: .seconds(10)) }
        let runFuture = worker.submit { try pipeline.run([1, 2, 3]) }
        let sendOutcome = withWatchdog { try sendFuture.result(timeout: .seconds(10)) }
        let runOutcome = withWatchdog { try runFuture.result(timeout: .seconds(10)) }
        guard case .failure(let sendError)? = sendOutcome, case .failure(let runError)? = runOutcome else {
            Issue.record("expected failures, got \(String(describing: sendOutcome)), \(String(describing: runOutcome))")
            return
        }
        #expect(sendError as? AsyncWorkerError == .wouldDeadlock)
        #expect(runError as? AsyncWorkerError == .wouldDeadlock)
        #expect(pipeline.monitor.snapshot().completedRuns == 0)
    }

    @Test("a zero timeout throws timedOut at once without sending")
    func zeroTimeoutDoesNotSend() {
        let worker = ThreadWorker(name: "pl-zero")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let runs = Counter()
        let pipeline = Pipeline(CountingDomain(runs: runs), worker: worker)
        #expect(throws: AsyncWorkerError.timedOut) { try pipeline.send(1, timeout: .zero) }
        #expect(throws: AsyncWorkerError.timedOut) { try pipeline.send(1, timeout: .seconds(-1)) }
        #expect(runs.count == 0)
        #expect(pipeline.inFlightCount == 0)
    }

    @Test("send times out at the deadline and cancels the message, which is then counted as failed")
    func sendTimesOutAndCancels() {
        let worker = ThreadWorker(name: "pl-timeout")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let started = DispatchSemaphore(value: 0)
        let failedSignal = DispatchSemaphore(value: 0)
        let failures = Collector<PipelineFailure<Int>>()
        let pipeline = Pipeline(HangUntilCancelled(started: started), worker: worker)
        pipeline.onFailure { failure in
            failures.append(failure)
            failedSignal.signal()
        }
        let clock = ContinuousClock()
        let begin = clock.now
        let outcome = withWatchdog { try pipeline.send(1, timeout: .milliseconds(50)) }
        #expect(clock.now - begin < .seconds(2))
        guard case .failure(let error)? = outcome else {
            Issue.record("expected timedOut, got \(String(describing: outcome))")
            return
        }
        #expect(error as? AsyncWorkerError == .timedOut)
        waitOrFail(failedSignal, "the cancelled message's failure event")
        let failure = failures.all.first
        #expect(failures.count == 1)
        #expect(failure?.error is CancellationError)
        #expect(failure?.domain == "HangUntilCancelled")
        #expect(failure?.domainIndex == 0)
        #expect(failure?.input == 1)
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.failedRuns == 1)
        #expect(snapshot.domains[0].failuresByType == [String(reflecting: CancellationError.self): 1])
    }

    @Test("run drives a whole sequence and reports counts, failures by type and progress")
    func runReportsSummaryAndProgress() {
        let worker = ThreadWorker(name: "pl-run")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(RejectOdd(), worker: worker, maxInFlight: 8).then(AddOne())
        let reports = Collector<RunProgress>()
        let summary = watchdog {
            try pipeline.run(0..<500, progressInterval: .zero) { reports.append($0) }
        }
        guard let summary else { return }
        #expect(summary.submitted == 500)
        #expect(summary.succeeded == 250)
        #expect(summary.failed == 250)
        #expect(summary.failuresByType == [String(reflecting: OddNumberError.self): 250])
        #expect(!summary.wasInterrupted)
        #expect(summary.elapsed > .zero)
        let all = reports.all
        #expect(all.last == RunProgress(submitted: 500, succeeded: 250, failed: 250, elapsed: summary.elapsed))
        // Progress only moves forward, and never counts more than was submitted.
        for (earlier, later) in zip(all, all.dropFirst()) {
            #expect(earlier.finished <= later.finished && earlier.submitted <= later.submitted)
        }
        #expect(all.allSatisfy { $0.inFlight >= 0 && $0.inFlight <= 8 })
        #expect(pipeline.inFlightCount == 0)
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.completedRuns == 250)
        #expect(snapshot.failedRuns == 250)
    }

    @Test("run of an empty sequence returns an empty summary")
    func runEmptySequence() {
        let worker = ThreadWorker(name: "pl-empty")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(AddOne(), worker: worker)
        let summary = watchdog { try pipeline.run([Int]()) }
        #expect(summary?.submitted == 0)
        #expect(summary?.failed == 0)
        #expect(summary?.throughput == 0)
    }

    @Test("the run summary prints counts, throughput and failures")
    func runSummaryDescription() {
        let summary = RunSummary(
            submitted: 3000,
            succeeded: 2958,
            failed: 42,
            failuresByType: ["App.ParseError": 30, "App.LookupError": 12],
            elapsed: .milliseconds(500),
            wasInterrupted: false
        )
        #expect(
            summary.description
                == "3000 messages in 500ms (6.0k msg/s): 2958 succeeded, 42 failed "
                + "(App.ParseError × 30, App.LookupError × 12)"
        )
    }
}
