import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

/// Blocks the calling thread until `semaphore` is signalled: what a stalling job does.
private func holdThread(until semaphore: DispatchSemaphore) {
    semaphore.wait()
}

/// A stalling operation: holds the worker's thread until `release` is signalled, then returns 1.
private func holding(_ release: DispatchSemaphore) -> @Sendable () async -> Int {
    {
        holdThread(until: release)
        return 1
    }
}

/// Makes a blocking `call` on a new thread and signals `finished` when it returns.
private func onNewThread(signalling finished: DispatchSemaphore, _ call: @escaping @Sendable () -> Void) {
    Thread {
        call()
        finished.signal()
    }.start()
}

private func isStamping(_ worker: ThreadWorker) -> Bool {
    worker.thread.stamps.isStampingJobs.load(ordering: .relaxed)
}

/// Collects stall reports and signals each arrival.
private final class StallLog: Sendable {
    let reports = Collector<StallReport>()
    let arrived = DispatchSemaphore(value: 0)

    var handler: @Sendable (StallReport) -> Void {
        { report in
            self.reports.append(report)
            self.arrived.signal()
        }
    }

    /// Waits for the next report; nil (and a recorded failure) if none comes.
    func next(sourceLocation: SourceLocation = #_sourceLocation) -> StallReport? {
        guard waitOrFail(arrived, "a stall report", sourceLocation: sourceLocation) else { return nil }
        return reports.all.last
    }
}

@Suite("Stall detection: a job that holds the thread is reported with its submission site")
struct StallDetectionTests {
    @Test("a blocking job is reported once, with the file and line that submitted its task")
    func reportsSubmissionSite() {
        let worker = ThreadWorker(name: "stall-site")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let log = StallLog()
        worker.onStall(threshold: .milliseconds(30), perform: log.handler)
        let release = DispatchSemaphore(value: 0)
        let line = #line + 1
        let future = worker.submit(holding(release))
        let report = log.next()
        #expect(report?.site == SubmissionSite(fileID: #fileID, line: line))
        #expect(report?.workerName == "stall-site")
        #expect((report?.duration ?? .zero) >= .milliseconds(30))
        #expect(report?.inFlight == 1)
        // A deliberate wait (not synchronisation): several more samples see the same job, which must not
        // be reported again.
        #expect(log.arrived.wait(timeout: .now() + .milliseconds(120)) == .timedOut)
        release.signal()
        #expect(watchdog { try future.result() } == 1)
        #expect(log.reports.count == 1)
        #expect(worker.metrics().stalls == 1)
    }

    @Test("a stall after an await, and one in a child task, report the submitting task's site")
    func laterSegmentsAndChildTasks() {
        let worker = ThreadWorker(name: "stall-later")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let log = StallLog()
        worker.onStall(threshold: .milliseconds(30), perform: log.handler)
        let releaseParent = DispatchSemaphore(value: 0)
        let releaseChild = DispatchSemaphore(value: 0)
        let line = #line + 1
        let future = worker.submit { () async -> Int in
            await Task.yield()
            holdThread(until: releaseParent)
            async let child: Int = { () async -> Int in
                await Task.yield()
                holdThread(until: releaseChild)
                return 2
            }()
            return await child + 1
        }
        let parentStall = log.next()
        #expect(parentStall?.site == SubmissionSite(fileID: #fileID, line: line))
        releaseParent.signal()
        let childStall = log.next()
        #expect(childStall?.site == SubmissionSite(fileID: #fileID, line: line))
        releaseChild.signal()
        #expect(watchdog { try future.result() } == 3)
        #expect(log.reports.count == 2)
    }

    @Test("blocking calls through a dispatcher, its protocol, and batches, report their caller's line")
    func dispatcherSites() {
        let worker = ThreadWorker(name: "stall-dispatch")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let log = StallLog()
        worker.onStall(threshold: .milliseconds(30), perform: log.handler)
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let executeLine = #line + 1  // no timeout: the form most likely to pick a siteless overload
        onNewThread(signalling: finished) { _ = try? dispatcher.execute(holding(release)) }
        #expect(log.next()?.site == SubmissionSite(fileID: #fileID, line: executeLine))
        release.signal()
        waitOrFail(finished, "the blocking call to return")

        let port: any Dispatcher = dispatcher  // through the protocol, as code written against the port calls it
        let portLine = #line + 1
        onNewThread(signalling: finished) { _ = try? port.execute(holding(release)) }
        #expect(log.next()?.site == SubmissionSite(fileID: #fileID, line: portLine))
        release.signal()
        waitOrFail(finished, "the blocking call through the port to return")

        // With a timeout, through the port: the requirement carries a `Submission`, so the site arrives too.
        let timeoutLine = #line + 1
        onNewThread(signalling: finished) { _ = try? port.execute(holding(release), timeout: .seconds(60)) }
        #expect(log.next()?.site == SubmissionSite(fileID: #fileID, line: timeoutLine))
        release.signal()
        waitOrFail(finished, "the blocking call with a timeout through the port to return")

        let batchLine = #line + 2
        onNewThread(signalling: finished) {
            _ = try? dispatcher.executeBatch([1, 2], maxConcurrency: 2) { n in
                holdThread(until: release)
                return n
            }
        }
        #expect(log.next()?.site == SubmissionSite(fileID: #fileID, line: batchLine))
        release.signal()
        release.signal()
        waitOrFail(finished, "the batch to return")
    }

    @Test("a job of a task submitted before detection was on is reported without a site")
    func untaggedJob() {
        let worker = ThreadWorker(name: "stall-untagged")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let gate = AsyncGate()
        let release = DispatchSemaphore(value: 0)
        let future = worker.submit { () async -> Int in
            await gate.wait()
            holdThread(until: release)
            return 1
        }
        let log = StallLog()
        worker.onStall(threshold: .milliseconds(30), perform: log.handler)
        gate.open()
        let report = log.next()
        #expect(report != nil)
        #expect(report?.site == nil)
        release.signal()
        #expect(watchdog { try future.result() } == 1)
    }

    @Test("quick jobs are never reported")
    func quickJobs() {
        let worker = ThreadWorker(name: "stall-quick")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let log = StallLog()
        worker.onStall(threshold: .seconds(1), perform: log.handler)
        let futures = (0..<2_000).map { index in
            worker.submit { () async -> Int in
                await Task.yield()
                return index
            }
        }
        #expect(futures.compactMap { future in watchdog { try future.result() } }.count == 2_000)
        #expect(log.reports.count == 0)
        #expect(worker.metrics().stalls == 0)
    }

    @Test("turned off, or replaced, the previous handler hears nothing more")
    func turnedOff() {
        let worker = ThreadWorker(name: "stall-off")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let first = StallLog()
        worker.onStall(threshold: .milliseconds(20), perform: first.handler)
        worker.onStall(perform: nil)
        let release = DispatchSemaphore(value: 0)
        let future = worker.submit(holding(release))
        // A deliberate wait: with detection off, a 20 ms threshold passes several times over.
        #expect(first.arrived.wait(timeout: .now() + .milliseconds(150)) == .timedOut)
        let second = StallLog()
        worker.onStall(threshold: .milliseconds(20), perform: second.handler)
        // The job started before this monitor: it is timed from the monitor's first sample of it.
        let report = second.next()
        #expect(report?.site == nil)  // submitted while detection was off
        release.signal()
        #expect(watchdog { try future.result() } == 1)
        #expect(first.reports.count == 0)
    }

    @Test("shutdown turns detection off; turning it on after shutdown does nothing")
    func afterShutdown() {
        let worker = ThreadWorker(name: "stall-shut")
        let log = StallLog()
        worker.onStall(threshold: .milliseconds(20), perform: log.handler)
        #expect(isStamping(worker))
        #expect(watchdog { try worker.submit { 1 }.result() } == 1)
        worker.shutdown(timeout: .seconds(5))
        #expect(!isStamping(worker))
        worker.onStall(threshold: .milliseconds(20), perform: log.handler)
        #expect(!isStamping(worker))
        #expect(log.reports.count == 0)
    }

    @Test("a zero or negative threshold is raised to 1 ms; a huge one never fires")
    func oddThresholds() {
        let worker = ThreadWorker(name: "stall-odd")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let huge = StallLog()
        worker.onStall(threshold: .seconds(Int64.max), perform: huge.handler)
        let release = DispatchSemaphore(value: 0)
        let first = worker.submit(holding(release))
        // A deliberate wait: nothing may be reported for a job far below a huge threshold.
        #expect(huge.arrived.wait(timeout: .now() + .milliseconds(50)) == .timedOut)
        release.signal()
        #expect(watchdog { try first.result() } == 1)
        for threshold in [Duration.zero, .seconds(-5)] {
            let log = StallLog()
            worker.onStall(threshold: threshold, perform: log.handler)
            let future = worker.submit(holding(release))
            let report = log.next()
            #expect((report?.duration ?? .zero) >= .milliseconds(1))
            release.signal()
            #expect(watchdog { try future.result() } == 1)
        }
        #expect(huge.reports.count == 0)
    }

    @Test("stalls on the shared worker report the runAsyncTask call's line")
    func sharedWorker() {
        let log = StallLog()
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let line = #line + 8
        // Other tests share this worker: keep only reports about this call.
        SharedWorker.onStall(threshold: .milliseconds(30)) { report in
            if report.site == SubmissionSite(fileID: #fileID, line: line) {
                log.handler(report)
            }
        }
        defer { SharedWorker.onStall(perform: nil) }
        onNewThread(signalling: finished) { _ = try? runAsyncTask(holding(release), timeout: .seconds(60)) }
        let report = log.next()
        #expect(report?.workerName == "AsyncWorker")
        release.signal()
        waitOrFail(finished, "runAsyncTask to return")
    }

    @Test("a pipeline message that holds the thread reports the post's line, in either spelling")
    func pipelineMessageReportsPostSite() {
        let worker = ThreadWorker(name: "stall-pipeline")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let log = StallLog()
        worker.onStall(threshold: .milliseconds(30), perform: log.handler)
        let release = DispatchSemaphore(value: 0)
        let built = Pipeline(worker: worker) { HoldUntil(release: release) }
        let chained = Pipeline(AddOne(), worker: worker).then(HoldUntil(release: release))
        for pipeline in [built, chained] {
            let line = #line + 1
            let future = pipeline.post(1)
            let report = log.next()
            #expect(report?.site == SubmissionSite(fileID: #fileID, line: line))
            #expect(report?.workerName == "stall-pipeline")
            release.signal()
            #expect(watchdog { try future.result(timeout: .seconds(10)) } != nil)
        }
        built.shutdown(timeout: .seconds(5))
        chained.shutdown(timeout: .seconds(5))
    }
}

/// A domain that holds the worker's thread until `release` is signalled: a stall.
private struct HoldUntil: AsyncDomain {
    let release: DispatchSemaphore
    func execute(_ input: Int) async throws -> Int {
        holdThread(until: release)
        return input
    }
}
