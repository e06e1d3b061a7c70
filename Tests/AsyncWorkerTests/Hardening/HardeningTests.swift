import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

/// The defects of the round-2 attack (issue 10), one test (or more) each. The main-thread ones (nested
/// waits, waits inside main-queue blocks, main-actor hops at every wait) run in a real main thread: see
/// `MainThreadHardeningTests`.
@Suite("Hardening: deadlines, re-entrant handlers, leaks, clamps, pinned actors")
struct HardeningTests {
    // MARK: 1. Every wait honours its deadline

    @Test("a blocking call on a worker at maxPendingTasks returns .timedOut by its deadline, starting nothing")
    func deadlineAtTheFrontDoor() {
        let worker = ThreadWorker(name: "full", maxPendingTasks: 2)
        let dispatcher = TaskDispatcher(worker: worker)
        let gate = AsyncGate()
        let started = Counter()
        let holders = (0..<2).map { _ in dispatcher.executeAsync { await gate.wait() } }
        let outcome = withWatchdog {
            try dispatcher.execute(
                {
                    started.increment()
                    return 1
                },
                timeout: .milliseconds(100)
            )
        }
        guard case .failure(let error)? = outcome else {
            Issue.record("expected .timedOut, got \(String(describing: outcome))")
            return
        }
        #expect(error as? AsyncWorkerError == .timedOut)
        gate.open()
        for holder in holders { _ = watchdog { try holder.result() } }
        worker.shutdown(timeout: .seconds(10))
        #expect(started.count == 0)
        #expect(worker.metrics().submitted == 2)
        #expect(worker.metrics().timedOut == 1)
    }

    @Test("Pipeline.send with a timeout on a worker at maxPendingTasks returns .timedOut by its deadline")
    func pipelineSendAtFullWorker() {
        let worker = ThreadWorker(name: "full-pipe", maxPendingTasks: 1)
        let gate = AsyncGate()
        let holder = TaskDispatcher(worker: worker).executeAsync { await gate.wait() }
        let pipeline = Pipeline(AddOne(), worker: worker)
        let outcome = withWatchdog { try pipeline.send(1, timeout: .milliseconds(100)) }
        guard case .failure(let error)? = outcome else {
            Issue.record("expected .timedOut, got \(String(describing: outcome))")
            return
        }
        #expect(error as? AsyncWorkerError == .timedOut)
        gate.open()
        _ = watchdog { try holder.result() }
        #expect(watchdog { try pipeline.send(1, timeout: .seconds(20)) } == 2)
        pipeline.shutdown(timeout: .seconds(10))
        worker.shutdown(timeout: .seconds(10))
    }

    @Test("a concurrent shutdown waits for the first within its own timeout plus the grace period")
    func concurrentShutdownIsBounded() {
        let worker = ThreadWorker(name: "bounded-stop")
        let gate = AsyncGate()
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        // The handler keeps the first shutdown busy until the second has come back.
        let future = worker.submit { await gate.wait() }
        future.onComplete { _ in
            entered.signal()
            _ = release.wait(timeout: .now() + 30)
        }
        let first = Thread { worker.shutdown(timeout: .zero) }
        first.start()
        waitOrFail(entered, "the first shutdown to run the handler")
        let second = watchdog { worker.shutdown(timeout: .milliseconds(50)) }
        #expect(second?.wasAlreadyShutDown == true)
        #expect(second?.threadExited == false)
        release.signal()
        gate.open()
    }

    // MARK: 2. Nested waits on one thread get their own wake-up

    @Test("a wait nested in another wait on the same thread cannot consume the outer wait's wake-up")
    func nestedParkers() {
        let result = watchdog { () -> (Bool, Bool, Bool) in
            Parker.withCurrent { outer in
                Parker.withCurrent { inner in
                    let distinct = outer !== inner
                    outer.unpark()  // the outer wait's operation finished while the inner one waits
                    let innerWoken = inner.park(until: Deadline.after(.milliseconds(20)))
                    let outerWoken = outer.park(until: Deadline.after(.seconds(5)))
                    return (distinct, innerWoken, outerWoken)
                }
            }
        }
        #expect(result?.0 == true)
        #expect(result?.1 == false)  // the inner wait times out: the permit is not its own
        #expect(result?.2 == true)  // the outer wait still has it
    }

    // MARK: 3. Shutdown may be called from a handler it runs

    @Test("shutdown called from an abandoned future's onComplete handler returns at once")
    func shutdownFromCompletionHandler() {
        let worker = ThreadWorker(name: "reentrant")
        let gate = AsyncGate()
        let innerReport = ResultBox<ShutdownReport>()
        let future = worker.submit { await gate.wait() }
        future.onComplete { _ in innerReport.set(.success(worker.shutdown(timeout: .seconds(5)))) }
        let report = watchdog { worker.shutdown(timeout: .milliseconds(20)) }
        #expect(report?.abandonedTasks == 1)
        #expect(report?.wasAlreadyShutDown == false)
        let inner = try? innerReport.get()?.get()
        #expect(inner?.wasAlreadyShutDown == true)
        // A later call gets the first report.
        #expect(worker.shutdown(timeout: nil).abandonedTasks == 1)
        gate.open()
    }

    @Test("pipeline shutdown called from an onFailure subscriber (stop on first failure) does not deadlock")
    func pipelineShutdownFromFailureSubscriber() {
        let worker = ThreadWorker(name: "stop-on-fail")
        defer { worker.shutdown(timeout: .seconds(10)) }
        let gate = AsyncGate()
        let started = DispatchSemaphore(value: 0)
        let pipeline = Pipeline(
            GatedDomain(gate: gate, started: started, concurrency: ConcurrencyGauge()),
            worker: worker
        )
        let innerReports = Collector<PipelineShutdownReport>()
        pipeline.onFailure { _ in innerReports.append(pipeline.shutdown(timeout: .seconds(5))) }
        let future = pipeline.post(1)
        waitOrFail(started, "the message to start")
        let report = watchdog { pipeline.shutdown(timeout: .milliseconds(20)) }
        #expect(report?.abandonedMessages == 1)
        #expect(innerReports.count == 1)
        #expect(innerReports.all.first?.wasAlreadyShutDown == true)
        #expect(throws: AsyncWorkerError.shutDown) { try future.result(timeout: .seconds(10)) }
        gate.open()
    }

    @Test("pipeline shutdown from an onFailure subscriber on the worker's thread (a domain failed) returns")
    func pipelineShutdownFromSubscriberOnWorker() {
        let worker = ThreadWorker(name: "fail-stops")
        defer { worker.shutdown(timeout: .seconds(10)) }
        let pipeline = Pipeline(RejectOdd(), worker: worker)
        let stopped = DispatchSemaphore(value: 0)
        pipeline.onFailure { _ in
            pipeline.shutdown(timeout: .seconds(5))
            stopped.signal()
        }
        let future = pipeline.post(1)
        waitOrFail(stopped, "the subscriber's shutdown to return")
        #expect(throws: OddNumberError(value: 1)) { try future.result(timeout: .seconds(10)) }
        #expect(throws: AsyncWorkerError.shutDown) { try pipeline.send(2, timeout: .seconds(10)) }
    }

    // MARK: 4. Workers dropped without shutdown let their thread go

    #if os(Linux)
    @Test("started workers dropped without shutdown release their threads' stacks")
    func droppedWorkersDoNotLeak() throws {
        let count = 200
        let before = try #require(virtualMemoryBytes())
        var threads: [ExecutorThread] = []
        for index in 0..<count {
            let worker = ThreadWorker(name: "drop-\(index)")
            try worker.start()
            threads.append(worker.thread)
        }
        // The workers are gone (no task ever held them); their threads must exit and be reclaimed.
        for thread in threads {
            #expect(thread.waitForExit(until: Deadline.after(.seconds(30))))
        }
        threads = []
        // Exited threads that were never joined nor detached keep their 8 MiB stack mapped (200 × 8 MiB
        // = 1.6 GiB). Reclaimed ones leave at most glibc's stack cache (40 MiB) and other tests' noise.
        let after = try #require(virtualMemoryBytes())
        let grown = after > before ? after - before : 0
        #expect(grown < 800 << 20, "address space grew by \(grown >> 20) MiB")
    }
    #endif

    // MARK: 7. No duration traps

    @Test("huge retry backoffs are clamped instead of trapping")
    func hugeBackoffs() {
        let huge = RetryPolicy(maxAttempts: 3, initialBackoff: .seconds(100_000_000_000))
        #expect(huge.backoff(beforeAttempt: 2, unit: 0.5) <= Deadline.longestTimeout)
        let exploding = RetryPolicy(
            maxAttempts: 9,
            initialBackoff: .seconds(1),
            multiplier: 1e300,
            maxBackoff: .seconds(Int64.max)
        )
        #expect(exploding.backoff(beforeAttempt: 8, unit: 0.99) <= Deadline.longestTimeout)
        #expect(exploding.backoff(beforeAttempt: 8, unit: 0.99) > .seconds(1))
    }

    @Test("a domain timeout of .seconds(Int64.max) means no limit")
    func hugeDomainTimeout() {
        let worker = ThreadWorker(name: "huge-timeout")
        defer { worker.shutdown(timeout: .seconds(10)) }
        let pipeline = Pipeline(HugeTimeoutDomain(), worker: worker)
        #expect(watchdog { try pipeline.send(41, timeout: .seconds(20)) } == 42)
    }

    // MARK: 8. Actors pinned to a worker

    @Test("an actor whose executor is a worker that was never started works from its first call")
    func actorOnUnstartedWorker() async {
        let worker = ThreadWorker(name: "actor-lazy")
        let counter = PinnedCounter(worker: worker)
        #expect(!worker.isRunning)
        let (value, onWorker) = await counter.increment()
        #expect(value == 1)
        #expect(onWorker)
        #expect(worker.isRunning)
        _ = try? await runSyncTask { worker.shutdown(timeout: .seconds(10)) }
    }

    @Test("after shutdown, an actor pinned to the worker still passes isolation checks on the fallback queue")
    func actorAfterShutdown() async {
        let worker = ThreadWorker(name: "actor-late")
        let counter = PinnedCounter(worker: worker)
        _ = await counter.increment()
        _ = try? await runSyncTask { worker.shutdown(timeout: .seconds(10)) }
        let (value, isolated) = await counter.incrementCheckingIsolation()
        #expect(value == 2)
        #expect(isolated)
    }
}

/// A domain with a timeout too big for any sleep.
struct HugeTimeoutDomain: AsyncDomain {
    var timeout: Duration? { .seconds(Int64.max) }
    func execute(_ input: Int) async throws -> Int { input + 1 }
}

extension PinnedCounter {
    /// Increments, after asserting (fatally, if wrong) that the runtime sees this code isolated to the
    /// worker.
    func incrementCheckingIsolation() -> (Int, Bool) {
        preconditionIsolated()
        return increment()
    }
}

#if os(Linux)
/// The process's mapped address space (`VmSize` in /proc/self/status).
func virtualMemoryBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmSize:") {
        // "VmSize:\t  123456 kB" (a tab, then spaces only when the number is short).
        let kilobytes = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
        return kilobytes.map { $0 * 1024 }
    }
    return nil
}
#endif
