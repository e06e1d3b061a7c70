import AsyncWorker
import Foundation

/// Everything a demo run produced: the run summary, what failed, the aggregated report, the monitor's
/// numbers and the files written.
public struct DemoResult: Sendable {
    /// What `Pipeline.run` reported.
    public var summary: RunSummary
    /// The failed messages, by category.
    public var failures: FailureReport
    /// The aggregated totals.
    public var report: DemoReport
    /// The pipeline monitor's numbers at the end of the run.
    public var monitor: PipelineSnapshot
    /// User-directory lookups served from the cache.
    public var directoryHits: Int
    /// User-directory lookups that paid the latency (cache misses, unknown users).
    public var directoryLookups: Int
    /// Rows written to the CSV file.
    public var exportedRows: Int
    /// Bytes written to the CSV file, header included.
    public var exportedBytes: Int
    /// The settings the run used.
    public var configuration: DemoConfiguration
    /// The CSV export.
    public var csvFile: URL
    /// The Markdown report.
    public var reportFile: URL

    /// Risk-service calls made (one per parsed event), each awaiting the service's latency.
    public var riskCalls: Int { monitor[domain: "enrich"]?.runs ?? 0 }
}
