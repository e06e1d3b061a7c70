import Foundation
import Testing

@testable import AsyncWorker

@Suite("Pipeline monitor", .timeLimit(.minutes(1)))
struct PipelineMonitorTests {
    struct ParseError: Error {}
    struct LookupError: Error {}

    @Test("percentiles are nearest-rank over the recorded durations")
    func percentilesNearestRank() {
        let monitor = PipelineMonitor(domainNames: ["parse"], windowSize: 1024)
        // Recorded out of order on purpose.
        for millis in (1...100).reversed() {
            monitor.recordDomain(0, duration: .milliseconds(millis), error: nil)
        }
        let stats = monitor.snapshot().domains[0]
        #expect(stats.sampleCount == 100)
        #expect(stats.p50 == .milliseconds(50))
        #expect(stats.p95 == .milliseconds(95))
        #expect(stats.p99 == .milliseconds(99))
    }

    @Test("the window keeps only the most recent durations; counts cover everything")
    func windowIsBounded() {
        let monitor = PipelineMonitor(domainNames: ["a"], windowSize: 10)
        for millis in 1...100 {
            monitor.recordDomain(0, duration: .milliseconds(millis), error: nil)
        }
        let stats = monitor.snapshot().domains[0]
        #expect(stats.successes == 100)
        #expect(stats.sampleCount == 10)
        // The last ten: 91...100 ms.
        #expect(stats.p50 == .milliseconds(95))
        #expect(stats.p95 == .milliseconds(100))
        #expect(stats.p99 == .milliseconds(100))
    }

    @Test("a single sample is every percentile; no sample gives nil")
    func smallSamples() {
        let monitor = PipelineMonitor(domainNames: ["a", "b"], windowSize: 8)
        monitor.recordDomain(0, duration: .microseconds(7), error: nil)
        let snapshot = monitor.snapshot()
        #expect(snapshot.domains[0].p50 == .microseconds(7))
        #expect(snapshot.domains[0].p99 == .microseconds(7))
        #expect(snapshot.domains[1].p50 == nil)
        #expect(snapshot.domains[1].sampleCount == 0)
    }

    @Test("failures are counted per domain and by error type; runs are counted separately")
    func failuresByType() {
        let monitor = PipelineMonitor(domainNames: ["parse", "lookup"], windowSize: 16)
        monitor.recordDomain(0, duration: .microseconds(1), error: nil)
        monitor.recordDomain(0, duration: .microseconds(1), error: ParseError())
        monitor.recordDomain(0, duration: .microseconds(1), error: ParseError())
        monitor.recordDomain(1, duration: .microseconds(1), error: LookupError())
        monitor.recordDomain(1, duration: .microseconds(1), error: CancellationError())
        monitor.recordRun(succeeded: true)
        monitor.recordRun(succeeded: false)
        monitor.recordRun(succeeded: false)
        let snapshot = monitor.snapshot()
        #expect(snapshot.domains[0].successes == 1)
        #expect(snapshot.domains[0].failures == 2)
        #expect(snapshot.domains[0].runs == 3)
        #expect(snapshot.domains[0].failuresByType == [String(reflecting: ParseError.self): 2])
        #expect(
            snapshot.domains[1].failuresByType == [
                String(reflecting: LookupError.self): 1, String(reflecting: CancellationError.self): 1,
            ]
        )
        #expect(snapshot.completedRuns == 1)
        #expect(snapshot.failedRuns == 2)
        #expect(snapshot[domain: "lookup"]?.failures == 2)
        #expect(snapshot[domain: "missing"] == nil)
    }

    @Test("a window larger than the first buffer grows as samples arrive; a huge one allocates nothing up front")
    func windowGrows() {
        let huge = PipelineMonitor(domainNames: ["a"], windowSize: .max)
        #expect(huge.windowSize == .max)
        let monitor = PipelineMonitor(domainNames: ["a"], windowSize: 5_000)
        // 1,024 -> 2,048 -> 4,096 -> 5,000 samples of room, then the ring wraps.
        for micros in 1...6_000 {
            huge.recordDomain(0, duration: .microseconds(micros), error: nil)
            monitor.recordDomain(0, duration: .microseconds(micros), error: nil)
        }
        let all = huge.snapshot().domains[0]
        #expect(all.sampleCount == 6_000)
        #expect(all.p50 == .microseconds(3_000))
        #expect(all.p99 == .microseconds(5_940))
        let recent = monitor.snapshot().domains[0]
        #expect(recent.successes == 6_000)
        #expect(recent.sampleCount == 5_000)
        // The last 5,000: 1,001...6,000 µs.
        #expect(recent.p50 == .microseconds(3_500))
    }

    @Test("recording is lock-free yet exact: threads record at once while snapshots are read")
    func concurrentRecording() {
        // Two domains: one with a small window that wraps, one large enough to grow while threads write.
        let monitor = PipelineMonitor(domainNames: ["a", "b"], windowSize: 64)
        let growing = PipelineMonitor(domainNames: ["a"], windowSize: 100_000)
        let threads = 4
        let perThread = 2_000
        let done = DispatchGroup()
        for thread in 0..<threads {
            done.enter()
            Thread {
                for round in 0..<perThread {
                    let failed = round % 10 == 0
                    let error: (any Error)? = failed ? ParseError() : nil
                    monitor.recordDomain(thread % 2, duration: .microseconds(round + 1), error: error)
                    growing.recordDomain(0, duration: .microseconds(round + 1), error: nil)
                    monitor.recordRun(succeeded: !failed)
                }
                done.leave()
            }.start()
        }
        // Snapshots taken mid-stream only ever see whole samples (never the -1 of an unwritten slot).
        repeat {
            let snapshot = monitor.snapshot()
            for domain in snapshot.domains {
                #expect(domain.sampleCount <= 64)
                #expect((domain.p50 ?? .microseconds(1)) >= .microseconds(1))
                #expect(domain.failuresByType.values.reduce(0, +) >= domain.failures)
            }
            #expect(growing.snapshot().domains[0].sampleCount <= threads * perThread)
        } while done.wait(timeout: .now()) == .timedOut
        let snapshot = monitor.snapshot()
        for domain in snapshot.domains {
            #expect(domain.successes == perThread * threads / 2 * 9 / 10)
            #expect(domain.failures == perThread * threads / 2 / 10)
            #expect(domain.failuresByType == [String(reflecting: ParseError.self): domain.failures])
            #expect(domain.sampleCount == 64)
        }
        #expect(snapshot.completedRuns + snapshot.failedRuns == threads * perThread)
        // Every sample counted; a sample written into a buffer while it was being outgrown may be lost
        // to the window: at most one per writer per growth (1,024 doubles 7 times to reach 100,000).
        let grown = growing.snapshot().domains[0]
        #expect(grown.successes == threads * perThread)
        #expect(grown.sampleCount <= threads * perThread)
        #expect(grown.sampleCount >= threads * perThread - threads * 7)
        #expect(snapshot.failedRuns == threads * perThread / 10)
    }

    @Test("snapshots are values: equal when nothing changed, different after")
    func snapshotsAreValues() {
        let monitor = PipelineMonitor(domainNames: ["a"], windowSize: 4)
        monitor.recordDomain(0, duration: .milliseconds(1), error: nil)
        let first = monitor.snapshot()
        #expect(first == monitor.snapshot())
        monitor.recordRun(succeeded: true)
        #expect(first != monitor.snapshot())
        #expect(first.completedRuns == 0)
    }

    @Test("the table has a row per domain, failures by type and the run totals")
    func tableRendering() {
        let snapshot = PipelineSnapshot(
            domains: [
                .init(
                    name: "Parse",
                    successes: 998,
                    failures: 2,
                    failuresByType: ["App.ParseError": 2],
                    sampleCount: 1000,
                    p50: .nanoseconds(12_100),
                    p95: .nanoseconds(30_500),
                    p99: .microseconds(41)
                ),
                .init(
                    name: "EnrichWithProfile",
                    successes: 998,
                    failures: 0,
                    failuresByType: [:],
                    sampleCount: 998,
                    p50: .nanoseconds(1_104_000),
                    p95: .milliseconds(1450),
                    p99: nil
                ),
            ],
            completedRuns: 998,
            failedRuns: 2,
            windowSize: 1024
        )
        let expected = """
            domain             ok attempts  failed attempts     p50     p95     p99
            Parse                      998                2  12.1µs  30.5µs  41.0µs
            EnrichWithProfile          998                0  1.10ms   1.45s       -
            failed attempts by type:
              Parse: App.ParseError × 2
            messages: 998 completed, 2 failed (percentiles over the last ≤ 1024 attempts of each domain)
            """
        #expect(snapshot.table == expected)
        #expect(snapshot.description == expected)
    }

    @Test("the pipeline feeds the monitor: every domain run is timed and counted")
    func pipelineFeedsTheMonitor() {
        let worker = ThreadWorker(name: "pl-monitor")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let pipeline = Pipeline(AddOne(), worker: worker, monitorWindow: 50).then(RejectOdd()).then(Stringify())
        let summary = watchdog { try pipeline.run(0..<120) }
        #expect(summary?.succeeded == 60)
        let snapshot = pipeline.monitor.snapshot()
        #expect(snapshot.domains.map(\.name) == ["AddOne", "RejectOdd", "Stringify"])
        #expect(snapshot.domains.map(\.successes) == [120, 60, 60])
        #expect(snapshot.domains.map(\.failures) == [0, 60, 0])
        #expect(snapshot.domains.map(\.sampleCount) == [50, 50, 50])
        #expect(snapshot.domains.allSatisfy { $0.p50 != nil && $0.p50! <= $0.p95! && $0.p95! <= $0.p99! })
        #expect(snapshot.completedRuns == 60)
        #expect(snapshot.failedRuns == 60)
        #expect(snapshot.table.contains("RejectOdd"))
    }

    @Test("durations print compactly")
    func compactDurations() {
        #expect(Duration.nanoseconds(850).compactDescription == "850ns")
        #expect(Duration.nanoseconds(12_340).compactDescription == "12.3µs")
        #expect(Duration.microseconds(4_560).compactDescription == "4.56ms")
        #expect(Duration.milliseconds(1_200).compactDescription == "1.20s")
        #expect(Duration.seconds(125).compactDescription == "125s")
    }
}
