/// A simulated remote risk-scoring service: every call really waits `latency` (`Task.sleep`), so the
/// pipeline's concurrency across messages is what keeps the demo fast.
public struct RiskService: Sendable {
    /// How long each call takes.
    public var latency: Duration

    /// A service answering after `latency`.
    public init(latency: Duration) {
        self.latency = latency
    }

    /// A deterministic score 0–99 for `event`, after the service's latency.
    public func score(for event: Event) async throws -> Int {
        try await Task.sleep(for: latency)
        return Self.score(eventID: event.id)
    }

    /// The score the service gives event `id` (exposed so tests can predict it).
    public static func score(eventID id: Int) -> Int {
        Int((UInt64(truncatingIfNeeded: id) &* 2_654_435_761) % 100)
    }
}
