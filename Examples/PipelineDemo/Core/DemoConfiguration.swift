import AsyncWorker
import Foundation

/// How a demo run is set up.
public struct DemoConfiguration: Sendable {
    /// Where `events.csv` and `report.md` go (created if needed).
    public var outputDirectory: URL
    /// The pipeline's bound on messages in flight.
    public var maxInFlight = 64
    /// Latency of a user-directory cache miss.
    public var profileLatency: Duration = .milliseconds(2)
    /// Latency of every risk-service call.
    public var riskLatency: Duration = .milliseconds(1)
    /// The least time between two progress callbacks.
    public var progressInterval: Duration = .milliseconds(100)
    /// The worker to run on; `nil` uses the shared worker. The demo never shuts it down.
    public var worker: ThreadWorker?

    /// The default settings, writing to `outputDirectory`.
    public init(outputDirectory: URL) {
        self.outputDirectory = outputDirectory
    }

    /// `$TMPDIR/pipeline-demo`.
    public static var defaultOutputDirectory: URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-demo", isDirectory: true)
    }
}
