import Synchronization

/// Counts and times what a ``Pipeline`` does: per domain, the successes, the failures (also by error
/// type) and the duration percentiles over a bounded window of recent runs; for the pipeline, the
/// messages that completed and those that failed.
///
/// The pipeline feeds the monitor from its worker thread as each domain returns or throws; read it from
/// any thread with ``snapshot()``, which returns a plain value:
///
/// ```swift
/// let stats = pipeline.monitor.snapshot()
/// print(stats.table)
/// #expect(stats[domain: "Parse"]?.failures == 2)
/// ```
///
/// Memory is fixed: each domain keeps at most ``windowSize`` durations (the most recent ones). Counts
/// cover the pipeline's whole life.
public final class PipelineMonitor: Sendable {
    /// The monitored domains' names, in pipeline order.
    public let domainNames: [String]
    /// How many recent durations per domain the percentiles are computed over.
    public let windowSize: Int
    /// One record per domain, in pipeline order.
    @usableFromInline let domains: [DomainRecord]
    private let completedRuns = Atomic<Int>(0)
    private let failedRuns = Atomic<Int>(0)

    /// A monitor for the domains named `domainNames`, keeping `windowSize` durations each (at least 1).
    init(domainNames: [String], windowSize: Int) {
        self.domainNames = domainNames
        self.windowSize = max(1, windowSize)
        let window = self.windowSize
        self.domains = domainNames.map { _ in DomainRecord(windowCapacity: window) }
    }

    /// Records one run of the domain at `index` that took `nanoseconds`: a success if `error` is nil.
    ///
    /// Lock-free for a success (a few relaxed atomic operations, see ``DomainRecord``), because every
    /// message records every domain it passes: the pipeline's worker calls this four times per message
    /// through four domains. A failure also counts its error type, under a lock.
    @inlinable
    func recordDomain(_ index: Int, nanoseconds: UInt64, error: (any Error)?) {
        let record = domains[index]
        record.appendDuration(Int64(clamping: nanoseconds))
        if let error {
            record.recordFailure(of: Self.typeName(of: error))
        } else {
            record.successes.add(1, ordering: .relaxed)
        }
    }

    /// ``recordDomain(_:nanoseconds:error:)`` with a `Duration` (tests); durations too long for a deadline
    /// (about 31 years) count as the longest sample.
    func recordDomain(_ index: Int, duration: Duration, error: (any Error)?) {
        recordDomain(index, nanoseconds: Deadline.nanoseconds(of: duration) ?? .max, error: error)
    }

    /// Records that the domain at `index` is about to retry a failed attempt.
    @usableFromInline
    func recordRetry(_ index: Int) {
        domains[index].retries.add(1, ordering: .relaxed)
    }

    /// Records the end of one message: it produced an output, or it failed.
    @usableFromInline
    func recordRun(succeeded: Bool) {
        if succeeded {
            completedRuns.add(1, ordering: .relaxed)
        } else {
            failedRuns.add(1, ordering: .relaxed)
        }
    }

    /// The numbers as they are now, as a value you can print (``PipelineSnapshot/table``), compare or
    /// keep. Non-blocking for the pipeline: it reads the counters and copies each domain's window while
    /// the worker goes on recording, so a snapshot taken mid-stream is a gauge; once the messages you
    /// sent have returned, it counts all of them.
    public func snapshot() -> PipelineSnapshot {
        let domains = zip(domainNames, self.domains).map { name, record in
            // Failures before their breakdown: the breakdown is counted first, so it never falls short.
            let failures = record.failures.load(ordering: .relaxed)
            let sorted = record.recentDurations().sorted()
            return PipelineSnapshot.DomainStats(
                name: name,
                successes: record.successes.load(ordering: .relaxed),
                failures: failures,
                failuresByType: record.failuresByType.withLock { $0 },
                sampleCount: sorted.count,
                p50: DomainRecord.percentile(0.50, ofSorted: sorted),
                p95: DomainRecord.percentile(0.95, ofSorted: sorted),
                p99: DomainRecord.percentile(0.99, ofSorted: sorted),
                retries: record.retries.load(ordering: .relaxed)
            )
        }
        return PipelineSnapshot(
            domains: domains,
            completedRuns: completedRuns.load(ordering: .relaxed),
            failedRuns: failedRuns.load(ordering: .relaxed),
            windowSize: windowSize
        )
    }

    /// The key under which failures are counted: the error's fully qualified type name.
    @usableFromInline
    static func typeName(of error: any Error) -> String {
        String(reflecting: type(of: error))
    }
}
