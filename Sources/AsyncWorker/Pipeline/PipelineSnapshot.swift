/// What a ``PipelineMonitor`` had counted at one moment: a plain value, easy to print, compare and test.
///
/// ```swift
/// let snapshot = pipeline.monitor.snapshot()
/// print(snapshot)                                   // the same text as `snapshot.table`
/// let parse = snapshot[domain: "Parse"]
/// print(parse?.failures ?? 0, parse?.p95 ?? .zero)
/// ```
public struct PipelineSnapshot: Sendable, Equatable, CustomStringConvertible {
    /// One domain's numbers.
    public struct DomainStats: Sendable, Equatable {
        /// The domain's ``AsyncDomain/name``.
        public var name: String
        /// Attempts that returned a value (one per message that passed the domain).
        public var successes: Int
        /// Attempts that threw, retried ones included: with a ``AsyncDomain/retryPolicy`` this counts
        /// attempts, not messages (a message that failed 3 times counts 3). ``PipelineSnapshot/failedRuns``
        /// and ``RunSummary/failed`` count messages.
        public var failures: Int
        /// ``failures`` (attempts) broken down by the thrown error's fully qualified type name
        /// (e.g. `"MyApp.ParseError"`).
        public var failuresByType: [String: Int]
        /// How many durations the percentiles are computed over: the most recent runs, at most the
        /// monitor's ``PipelineMonitor/windowSize``.
        public var sampleCount: Int
        /// The median duration of the recent runs (successful or not); `nil` before the first run.
        ///
        /// A duration is wall-clock time from the call into the domain to its return or throw: it
        /// includes every `await` inside the domain and the time its jobs waited for the worker's thread,
        /// which many in-flight messages share. Compare it with the same domain at a lower `maxInFlight`
        /// to tell the domain's own cost from queueing.
        public var p50: Duration?
        /// The 95th-percentile duration (nearest rank) of the recent runs; `nil` before the first run.
        public var p95: Duration?
        /// The 99th-percentile duration (nearest rank) of the recent runs; `nil` before the first run.
        public var p99: Duration?
        /// Attempts retried under the domain's ``AsyncDomain/retryPolicy`` (each failed attempt counts
        /// in ``failures``; a message that failed twice and then succeeded adds 2 failures, 2 retries and
        /// 1 success).
        public var retries: Int = 0

        /// Every run of the domain, successful or not.
        public var runs: Int { successes + failures }
    }

    /// The domains, in pipeline order.
    public var domains: [DomainStats]
    /// Messages that went through every domain and produced an output.
    public var completedRuns: Int
    /// Messages that failed: a domain threw, the message was cancelled, or it was abandoned at shutdown.
    public var failedRuns: Int
    /// The monitor's per-domain duration window.
    public var windowSize: Int

    /// The stats of the first domain named `name`, if any.
    public subscript(domain name: String) -> DomainStats? {
        domains.first { $0.name == name }
    }

    /// ``table``.
    public var description: String { table }
}
