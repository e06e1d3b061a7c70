/// The aggregated numbers of a demo run.
public struct DemoReport: Sendable, Equatable {
    /// Events aggregated (parsed and enriched).
    public var events = 0
    /// Events by type (view, cart, purchase, refund).
    public var eventsByKind: [String: Int] = [:]
    /// Events by the user's country.
    public var eventsByCountry: [String: Int] = [:]
    /// Net revenue in cents (purchases minus refunds).
    public var revenueByCountry: [String: Int] = [:]
    /// Net revenue in cents by loyalty tier.
    public var revenueByTier: [String: Int] = [:]
    /// Net revenue in cents by user.
    public var revenueByUser: [String: Int] = [:]
    /// Events the risk service flagged.
    public var flaggedEvents = 0

    public init() {}

    /// Net revenue in cents, all countries.
    public var totalRevenueCents: Int { revenueByCountry.values.reduce(0, +) }

    /// The `count` users with the highest net revenue (ties by id).
    public func topUsers(_ count: Int) -> [(user: String, revenueCents: Int)] {
        revenueByUser.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(count)
            .map { (user: $0.key, revenueCents: $0.value) }
    }
}
