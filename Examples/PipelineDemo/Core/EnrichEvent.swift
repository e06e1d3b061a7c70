import AsyncWorker

/// Domain 2: adds the user's profile (cached directory lookup) and a risk score (remote call), awaiting
/// both at once with `async let`. Throws ``UnknownUserError`` for a user the directory doesn't know.
public struct EnrichEvent: AsyncDomain {
    let directory: UserDirectory
    let risk: RiskService

    /// A domain using `directory` and `risk`.
    public init(directory: UserDirectory, risk: RiskService) {
        self.directory = directory
        self.risk = risk
    }

    /// The monitor's name for this domain.
    public var name: String { "enrich" }

    /// Looks up the profile and the risk score concurrently.
    public func execute(_ event: Event) async throws -> EnrichedEvent {
        // Both lookups run concurrently, as child tasks on the pipeline's worker thread.
        async let score = risk.score(for: event)
        let profile = try await directory.profile(for: event.user, line: event.line)
        return EnrichedEvent(event: event, profile: profile, riskScore: try await score)
    }
}
