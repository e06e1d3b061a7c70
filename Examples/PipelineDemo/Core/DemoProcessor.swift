import AsyncWorker
import Foundation

/// Runs the demo's pipeline — parse → enrich → aggregate → export — over a sequence of lines, from
/// synchronous code, and writes the CSV export and a Markdown report.
///
/// ```swift
/// let result = try DemoProcessor.process(SampleData.lines().numberedLines(), configuration: config)
/// print(result.summary)
/// ```
public enum DemoProcessor {
    /// Processes `lines` and returns what happened. Blocks the calling thread (never call it from the
    /// worker's own thread). Bad lines and failed lookups are counted in the result, never thrown.
    ///
    /// - Parameters:
    ///   - lines: The input, consumed lazily with at most `configuration.maxInFlight` in flight.
    ///   - configuration: Output directory, latencies, bound and worker.
    ///   - progress: Called on this thread as the run goes on; see `Pipeline.run`.
    /// - Throws: If the output files cannot be written, or ``AsyncWorkerError``s of the bridge itself.
    public static func process(
        _ lines: some Sequence<InputLine>,
        configuration: DemoConfiguration,
        progress: ((RunProgress) -> Void)? = nil
    ) throws -> DemoResult {
        let directoryURL = configuration.outputDirectory
        try FileManager.default.createDirectory(at: directoryURL, withIntermediateDirectories: true)
        let csvFile = directoryURL.appendingPathComponent("events.csv")
        let reportFile = directoryURL.appendingPathComponent("report.md")

        let directory = UserDirectory(latency: configuration.profileLatency)
        let risk = RiskService(latency: configuration.riskLatency)
        let aggregator = ReportAggregator()
        let exporter = try CSVExporter(url: csvFile)
        let pipeline = Pipeline(worker: configuration.worker, maxInFlight: configuration.maxInFlight) {
            ParseEvent()
            EnrichEvent(directory: directory, risk: risk)
            AggregateEvent(aggregator: aggregator)
            ExportEvent(exporter: exporter)
        }
        let failureLog = FailureLog()
        pipeline.onFailure { failureLog.record($0) }

        let summary = try pipeline.run(lines, progressInterval: configuration.progressInterval, progress: progress)
        // Nothing is in flight after `run`; shutting down just closes intake (the worker keeps running).
        pipeline.shutdown(timeout: .seconds(10))

        // The actors' state, read from synchronous code with a blocking call on the same worker.
        let collected = try blockingCall(on: configuration.worker) {
            try await exporter.finish()
            return Collected(
                report: await aggregator.snapshot(),
                hits: await directory.hits,
                lookups: await directory.remoteLookups,
                rows: await exporter.rows,
                bytes: await exporter.bytes
            )
        }
        let result = DemoResult(
            summary: summary,
            failures: failureLog.snapshot,
            report: collected.report,
            monitor: pipeline.monitor.snapshot(),
            directoryHits: collected.hits,
            directoryLookups: collected.lookups,
            exportedRows: collected.rows,
            exportedBytes: collected.bytes,
            configuration: configuration,
            csvFile: csvFile,
            reportFile: reportFile
        )
        try result.markdownReport.write(to: reportFile, atomically: true, encoding: .utf8)
        return result
    }

    private struct Collected: Sendable {
        var report: DemoReport
        var hits: Int
        var lookups: Int
        var rows: Int
        var bytes: Int
    }

    private static func blockingCall<T: Sendable>(
        on worker: ThreadWorker?,
        _ operation: sending @escaping () async throws -> T
    ) throws -> T {
        if let worker {
            return try TaskDispatcher(worker: worker).execute(operation, timeout: .seconds(30))
        }
        return try runAsyncTask(operation, timeout: .seconds(30))
    }
}
