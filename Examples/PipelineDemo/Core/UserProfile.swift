/// What the (simulated) user directory knows about a user.
public struct UserProfile: Sendable, Equatable {
    /// Loyalty tier.
    public enum Tier: String, Sendable, CaseIterable {
        case bronze, silver, gold
    }

    /// The user id.
    public var user: String
    /// ISO country code.
    public var country: String
    /// The loyalty tier.
    public var tier: Tier
}
