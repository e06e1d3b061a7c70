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
    // `Locked` (a pthread mutex) rather than `Mutex`, which ThreadSanitizer cannot see on Linux.
    private let state: Locked<State>

    /// A monitor for the domains named `domainNames`, keeping `windowSize` durations each (at least 1).
    init(domainNames: [String], windowSize: Int) {
        self.domainNames = domainNames
        self.windowSize = max(1, windowSize)
        let window = self.windowSize
        let records = domainNames.map { _ in DomainRecord(window: DurationWindow(capacity: window)) }
        self.state = Locked(State(domains: records))
    }

    /// Records one run of the domain at `index`: a success if `error` is nil.
    @usableFromInline
    func recordDomain(_ index: Int, duration: Duration, error: (any Error)?) {
        // Build the key before taking the lock: it allocates.
        let errorType = error.map { Self.typeName(of: $0) }
        state.withLock { state in
            state.domains[index].window.append(duration)
            if let errorType {
                state.domains[index].failures += 1
                state.domains[index].failuresByType[errorType, default: 0] += 1
            } else {
                state.domains[index].successes += 1
            }
        }
    }

    /// Records that the domain at `index` is about to retry a failed attempt.
    @usableFromInline
    func recordRetry(_ index: Int) {
        state.withLock { $0.domains[index].retries += 1 }
    }

    /// Records the end of one message: it produced an output, or it failed.
    @usableFromInline
    func recordRun(succeeded: Bool) {
        state.withLock { state in
            if succeeded {
                state.completedRuns += 1
            } else {
                state.failedRuns += 1
            }
        }
    }

    /// The numbers as they are now, as a value you can print (``PipelineSnapshot/table``), compare or
    /// keep. Non-blocking for the pipeline: the lock is held only to copy the counters.
    public func snapshot() -> PipelineSnapshot {
        let copy = state.withLock { $0 }
        // Sorting happens after the lock is released.
        let domains = zip(domainNames, copy.domains).map { name, record in
            let sorted = record.window.values.sorted()
            return PipelineSnapshot.DomainStats(
                name: name,
                successes: record.successes,
                failures: record.failures,
                failuresByType: record.failuresByType,
                sampleCount: sorted.count,
                p50: DurationWindow.percentile(0.50, ofSorted: sorted),
                p95: DurationWindow.percentile(0.95, ofSorted: sorted),
                p99: DurationWindow.percentile(0.99, ofSorted: sorted),
                retries: record.retries
            )
        }
        return PipelineSnapshot(
            domains: domains,
            completedRuns: copy.completedRuns,
            failedRuns: copy.failedRuns,
            windowSize: windowSize
        )
    }

    /// The key under which failures are counted: the error's fully qualified type name.
    static func typeName(of error: any Error) -> String {
        String(reflecting: type(of: error))
    }
}

extension PipelineMonitor {
    private struct State: Sendable {
        var domains: [DomainRecord]
        var completedRuns = 0
        var failedRuns = 0
    }

    private struct DomainRecord: Sendable {
        var successes = 0
        var failures = 0
        var failuresByType: [String: Int] = [:]
        var retries = 0
        var window: DurationWindow
    }
}
