/// An event with its user's profile and a risk score, ready to aggregate and export.
public struct EnrichedEvent: Sendable, Equatable {
    /// The parsed event.
    public var event: Event
    /// Its user's profile.
    public var profile: UserProfile
    /// 0–99, from the (simulated) risk service; 97 and above is flagged.
    public var riskScore: Int

    /// Whether the risk service flagged the event.
    public var isFlagged: Bool { riskScore >= 97 }
}
