import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

private struct MetricsTestError: Error {}

@Suite("Worker metrics: counts, queue depth, in flight, start latency, timeouts, rejections")
struct WorkerMetricsTests {
    @Test("every task is counted once by outcome: succeeded, failed, cancelled")
    func countsOutcomes() {
        let worker = ThreadWorker(name: "metrics-count")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let succeeding = (0..<10).map { index in worker.submit { index } }
        let failing = (0..<3).map { _ in worker.submit { () async throws -> Int in throw MetricsTestError() } }
        let cancelled = (0..<2).map { _ in
            worker.submit { () async throws -> Int in
                try await Task.sleep(for: .seconds(3600))
                return 0
            }
        }
        for future in cancelled { future.cancel() }
        #expect(succeeding.compactMap { watchdog { [future = $0] in try future.result() } } == Array(0..<10))
        for future in failing + cancelled {
            #expect(withWatchdog { try future.result() }.map { (try? $0.get()) == nil } == true)
        }
        // A future resolves just before its task unregisters: wait for the counts to settle.
        eventually("all 15 tasks are counted as completed") { worker.metrics().completed == 15 }
        let metrics = worker.metrics()
        #expect(metrics.name == "metrics-count")
        #expect(metrics.submitted == 15)
        #expect(metrics.failed == 5)
        #expect(metrics.cancelled == 2)
        #expect(metrics.inFlight == 0)
        #expect(metrics.queueDepth == 0)
        #expect(metrics.startLatency.count == 15)
        #expect(metrics.timedOut == 0 && metrics.rejected == 0 && metrics.throttled == 0 && metrics.stalls == 0)
    }

    @Test("queue depth counts jobs waiting behind a job that holds the thread; in flight counts them all")
    func queueDepthAndInFlight() {
        let worker = ThreadWorker(name: "metrics-depth")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let running = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = worker.submit { () -> Int in
            running.signal()
            release.wait()
            return 0
        }
        waitOrFail(running, "the holding job to start")
        let queued = (1...4).map { index in worker.submit { index } }
        let blocked = worker.metrics()
        #expect(blocked.queueDepth == 4)
        #expect(blocked.inFlight == 5)
        #expect(blocked.submitted == 5)
        release.signal()
        #expect(watchdog { try holder.result() } == 0)
        #expect(queued.compactMap { future in watchdog { try future.result() } } == [1, 2, 3, 4])
        eventually("the worker is idle") {
            let metrics = worker.metrics()
            return metrics.inFlight == 0 && metrics.queueDepth == 0
        }
    }

    @Test("start latency measures the wait for the thread: tasks queued behind a 40 ms job waited at least that")
    func startLatency() {
        let worker = ThreadWorker(name: "metrics-latency")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let running = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = worker.submit { () -> Int in
            running.signal()
            release.wait()
            return 0
        }
        waitOrFail(running, "the holding job to start")
        let queued = (0..<8).map { index in worker.submit { index } }
        // A deliberate delay (not synchronisation): the queued tasks wait at least this long to start.
        let delay = DispatchSemaphore(value: 0)
        #expect(delay.wait(timeout: .now() + .milliseconds(40)) == .timedOut)
        release.signal()
        _ = watchdog { try holder.result() }
        for future in queued { _ = watchdog { try future.result() } }
        eventually("all 9 starts are recorded") { worker.metrics().startLatency.count == 9 }
        let latency = worker.metrics().startLatency
        // 8 of the 9 waited >= 40 ms, so the median and everything above it did.
        #expect(latency.p50 >= .milliseconds(40))
        #expect(latency.p90 >= latency.p50)
        #expect(latency.p99 >= latency.p90)
        #expect(latency.max >= latency.p99)
        #expect(latency.mean >= .milliseconds(35))
        #expect(latency.max < .seconds(60))
    }

    @Test("timed-out blocking calls are counted, and their cancelled tasks too")
    func timeouts() {
        let worker = ThreadWorker(name: "metrics-timeout")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let outcome = withWatchdog {
            try dispatcher.execute(
                { () async throws -> Int in
                    try await Task.sleep(for: .seconds(3600))
                    return 0
                },
                timeout: .milliseconds(20)
            )
        }
        #expect(throws: AsyncWorkerError.timedOut) { try outcome?.get() }
        #expect(throws: AsyncWorkerError.timedOut) { try dispatcher.execute({ 1 }, timeout: .zero) }
        #expect(worker.metrics().timedOut == 2)
        eventually("the timed-out task ends cancelled") { worker.metrics().cancelled == 1 }
        #expect(worker.metrics().submitted == 1)  // a zero timeout starts nothing
    }

    @Test("submissions after shutdown are counted as rejected")
    func rejections() {
        let worker = ThreadWorker(name: "metrics-reject")
        _ = worker.submit { 1 }
        worker.shutdown(timeout: .seconds(5))
        let refused = worker.submit { 2 }
        #expect(throws: AsyncWorkerError.shutDown) { try refused.result(timeout: .zero) }
        #expect(throws: AsyncWorkerError.shutDown) { try TaskDispatcher(worker: worker).execute { 3 } }
        let metrics = worker.metrics()
        #expect(metrics.rejected == 2)
        #expect(metrics.submitted == 1)
        #expect(metrics.completed == 1)
    }

    @Test("a submission that waits for room (backpressure) is counted as throttled")
    func throttled() {
        let worker = ThreadWorker(name: "metrics-throttle", maxPendingTasks: 1)
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        let held = worker.submit {
            await gate.wait()
            return 1
        }
        let second = ResultBox<Int>()
        let done = DispatchSemaphore(value: 0)
        Thread {
            second.set(Result { try worker.submit { 2 }.result(timeout: .seconds(30)) })
            done.signal()
        }.start()
        eventually("the second submission waits for room") { worker.metrics().throttled == 1 }
        gate.open()
        waitOrFail(done, "the throttled submission to finish")
        #expect((try? second.get()?.get()) == 2)
        #expect(watchdog { try held.result() } == 1)
        #expect(worker.metrics().throttled == 1)
    }

    @Test("shutdown counts the tasks it abandons as completed, failed and cancelled")
    func abandonedAtShutdown() {
        let worker = ThreadWorker(name: "metrics-abandon")
        let futures = (0..<3).map { _ in
            worker.submit { () async throws -> Int in
                try await Task.sleep(for: .seconds(3600))
                return 0
            }
        }
        let report = worker.shutdown(timeout: .milliseconds(10))
        #expect(report.abandonedTasks == 3)
        for future in futures { #expect(throws: AsyncWorkerError.shutDown) { try future.result(timeout: .zero) } }
        let metrics = worker.metrics()
        #expect(metrics.completed == 3)
        #expect(metrics.failed == 3)
        #expect(metrics.cancelled == 3)
        #expect(metrics.inFlight == 0)
    }

    @Test("the description names the worker and shows every counter")
    func description() {
        let metrics = WorkerMetrics(
            name: "w",
            submitted: 7,
            completed: 6,
            failed: 1,
            cancelled: 2,
            inFlight: 1,
            queueDepth: 3,
            timedOut: 4,
            rejected: 5,
            throttled: 8,
            stalls: 9,
            startLatency: LatencySummary(
                count: 6,
                mean: .microseconds(5),
                p50: .microseconds(4),
                p90: .microseconds(8),
                p99: .microseconds(9),
                max: .microseconds(10)
            )
        )
        let text = metrics.description
        for fragment in [
            "worker 'w'", "7 submitted", "6 completed", "1 failed", "2 cancelled", "1 in flight",
            "3 jobs queued", "p50 4.00µs", "p99 9.00µs", "timed out 4", "rejected 5", "throttled 8", "stalls 9",
        ] {
            #expect(text.contains(fragment), "missing \(fragment) in \(text)")
        }
        #expect(LatencySummary().description == "no samples")
    }

    @Test("the shared worker's metrics count runAsyncTask calls")
    func sharedWorker() throws {
        let before = SharedWorker.metrics()
        #expect(before.name == "AsyncWorker")
        #expect(SharedWorker.name == "AsyncWorker")
        let value = watchdog { try runAsyncTask { 21 * 2 } }
        #expect(value == 42)
        let after = SharedWorker.metrics()
        // Other tests use the shared worker at the same time: counters only grow.
        #expect(after.submitted >= before.submitted + 1)
        #expect(after.startLatency.count >= before.startLatency.count + 1)
    }
}

@Suite("LatencyHistogram: log-linear buckets, percentiles within 1/16")
struct LatencyHistogramTests {
    @Test("every value lands in a bucket whose upper bound is at most 1/16 above it")
    func bucketBounds() {
        var values: [UInt64] = Array(0..<300)
        var value: UInt64 = 300
        while value < 1 << 50 {
            values.append(value)
            values.append(value + 1)
            value = value * 3 / 2 + 7
        }
        var previousIndex = 0
        for value in values.sorted() {
            let index = LatencyHistogram.bucketIndex(of: value)
            #expect(index >= previousIndex, "indices grow with values")
            #expect(index < LatencyHistogram.bucketCount)
            previousIndex = index
            guard value < 1 << 44 else {
                #expect(index == LatencyHistogram.bucketCount - 1)
                continue
            }
            let bound = LatencyHistogram.upperBound(ofBucket: index)
            #expect(bound >= value, "bucket \(index) bound \(bound) below \(value)")
            #expect(Double(bound) <= Double(value) * (1 + 1.0 / 16), "bucket \(index) too wide for \(value)")
        }
    }

    @Test("percentiles of 1...1000 µs are within 1/16 of the exact ones; mean and max are exact")
    func percentiles() {
        let histogram = LatencyHistogram()
        for microseconds in (1...1000).shuffled() { histogram.record(UInt64(microseconds) * 1000) }
        let summary = LatencySummary(histogram.summary())
        #expect(summary.count == 1000)
        #expect(summary.max == .microseconds(1000))
        #expect(summary.mean == .nanoseconds(500_500))
        func isClose(_ actual: Duration, _ exact: Duration) -> Bool {
            actual >= exact && actual <= exact * 17 / 16
        }
        #expect(isClose(summary.p50, .microseconds(500)), "p50 \(summary.p50)")
        #expect(isClose(summary.p90, .microseconds(900)), "p90 \(summary.p90)")
        #expect(isClose(summary.p99, .microseconds(990)), "p99 \(summary.p99)")
    }

    @Test("an empty histogram summarises to zeros; concurrent recording loses nothing")
    func emptyAndConcurrent() {
        let histogram = LatencyHistogram()
        #expect(LatencySummary(histogram.summary()) == LatencySummary())
        onRacingThreads(4) { thread in
            for index in 0..<10_000 { histogram.record(UInt64(thread * 10_000 + index)) }
        }
        let summary = LatencySummary(histogram.summary())
        #expect(summary.count == 40_000)
        #expect(summary.max == .nanoseconds(39_999))
    }
}
