import Dispatch
import Testing

@testable import AsyncWorker

@Suite("Pipeline backpressure", .timeLimit(.minutes(1)))
struct PipelineBackpressureTests {
    @Test("run holds the producer back: in flight stays at maxInFlight, the sequence is consumed lazily")
    func runIsBounded() {
        let worker = ThreadWorker(name: "pl-bounded")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        defer { gate.open() }
        let started = DispatchSemaphore(value: 0)
        let producerBlocked = DispatchSemaphore(value: 0)
        let gauge = ConcurrencyGauge()
        let pipeline = Pipeline(
            GatedDomain(gate: gate, started: started, concurrency: gauge),
            worker: worker,
            maxInFlight: 3
        )
        pipeline.storage.setSlotWaitHook { producerBlocked.signal() }
        let taken = Counter()
        let summary = ResultBox<RunSummary>()
        let runDone = startThread {
            summary.set(Result { try pipeline.run(CountingSequence(count: 1_000, taken: taken)) })
        }
        for _ in 0..<3 { waitOrFail(started, "a message to start") }
        waitOrFail(producerBlocked, "the producer to wait for a slot")
        // Three messages in flight, the fourth taken from the sequence and held back: nothing more.
        #expect(pipeline.inFlightCount == 3)
        #expect(taken.count == 4)
        #expect(gauge.current == 3)
        gate.open()
        waitOrFail(runDone, "the run to finish")
        #expect(taken.count == 1_000)
        #expect(gauge.peak == 3)
        #expect((try? summary.get()?.get())?.succeeded == 1_000)
        #expect(pipeline.inFlightCount == 0)
    }

    @Test("post blocks while every slot is taken and resumes when one frees")
    func postBlocksWhenFull() {
        let worker = ThreadWorker(name: "pl-postfull")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        defer { gate.open() }
        let started = DispatchSemaphore(value: 0)
        let blocked = DispatchSemaphore(value: 0)
        let gauge = ConcurrencyGauge()
        let pipeline = Pipeline(
            GatedDomain(gate: gate, started: started, concurrency: gauge),
            worker: worker,
            maxInFlight: 2
        )
        pipeline.storage.setSlotWaitHook { blocked.signal() }
        let first = pipeline.post(1)
        let second = pipeline.post(2)
        let third = ResultBox<TaskFuture<Int>>()
        let posted = startThread { third.set(.success(pipeline.post(3))) }
        waitOrFail(blocked, "the third post to wait for a slot")
        #expect(third.get() == nil)
        #expect(pipeline.inFlightCount == 2)
        // Both admitted messages are inside the domain before the gate opens (else the peak is a race).
        waitOrFail(started, "the first message to enter the domain")
        waitOrFail(started, "the second message to enter the domain")
        gate.open()
        waitOrFail(posted, "the third post to return")
        let values = watchdog {
            [
                try first.result(timeout: .seconds(10)), try second.result(timeout: .seconds(10)),
                try third.get()?.get().result(timeout: .seconds(10)),
            ]
        }
        #expect(values == [1, 2, 3])
        #expect(gauge.peak == 2)
    }

    @Test("post on the worker's own thread does not wait for a slot")
    func postOnWorkerThreadDoesNotWait() {
        let worker = ThreadWorker(name: "pl-nowait")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        defer { gate.open() }
        let started = DispatchSemaphore(value: 0)
        let pipeline = Pipeline(
            GatedDomain(gate: gate, started: started, concurrency: ConcurrencyGauge()),
            worker: worker,
            maxInFlight: 1
        )
        let first = pipeline.post(1)
        waitOrFail(started, "the first message to start")
        // Every slot is taken, and only this worker's thread could free one.
        let inner = worker.submit { pipeline.post(2) }
        let innerFuture = watchdog { try inner.result(timeout: .seconds(10)) }
        #expect(pipeline.inFlightCount == 2)
        gate.open()
        #expect(watchdog { try first.result(timeout: .seconds(10)) } == 1)
        #expect(watchdog { try innerFuture?.result(timeout: .seconds(10)) } == 2)
    }

    @Test("send waiting for a slot times out at its deadline without sending")
    func sendTimesOutWaitingForSlot() {
        let worker = ThreadWorker(name: "pl-slotwait")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        defer { gate.open() }
        let started = DispatchSemaphore(value: 0)
        let gauge = ConcurrencyGauge()
        let pipeline = Pipeline(
            GatedDomain(gate: gate, started: started, concurrency: gauge),
            worker: worker,
            maxInFlight: 1
        )
        let first = pipeline.post(1)
        waitOrFail(started, "the first message to start")
        let clock = ContinuousClock()
        let begin = clock.now
        #expect(throws: AsyncWorkerError.timedOut) { try pipeline.send(2, timeout: .milliseconds(50)) }
        #expect(clock.now - begin < .seconds(2))
        gate.open()
        #expect(watchdog { try first.result(timeout: .seconds(10)) } == 1)
        #expect(gauge.peak == 1)
        #expect(pipeline.monitor.snapshot().domains[0].runs == 1)
    }
}
