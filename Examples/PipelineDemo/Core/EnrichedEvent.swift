/// An event with its user's profile and a risk score, ready to aggregate and export.
public struct EnrichedEvent: Sendable, Equatable {
    public var event: Event
    public var profile: UserProfile
    /// 0–99, from the (simulated) risk service; 97 and above is flagged.
    public var riskScore: Int

    /// Whether the risk service flagged the event.
    public var isFlagged: Bool { riskScore >= 97 }
}

/// What the export domain wrote for one event.
public struct ExportedRow: Sendable, Equatable {
    public var eventID: Int
    public var bytes: Int
}
