import AsyncWorker
import Foundation

/// Everything a demo run produced: the run summary, what failed, the aggregated report, the monitor's
/// numbers and the files written.
public struct DemoResult: Sendable {
    public var summary: RunSummary
    public var failures: FailureReport
    public var report: DemoReport
    public var monitor: PipelineSnapshot
    /// User-directory lookups served from the cache, and those that paid the latency.
    public var directoryHits: Int
    public var directoryLookups: Int
    /// Rows and bytes written to the CSV file (header included in the bytes).
    public var exportedRows: Int
    public var exportedBytes: Int
    public var configuration: DemoConfiguration
    public var csvFile: URL
    public var reportFile: URL

    /// Risk-service calls made (one per parsed event), each awaiting the service's latency.
    public var riskCalls: Int { monitor[domain: "enrich"]?.runs ?? 0 }
}
