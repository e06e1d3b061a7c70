/// The aggregated numbers of a demo run.
public struct DemoReport: Sendable, Equatable {
    /// Events aggregated (parsed and enriched).
    public var events = 0
    public var eventsByKind: [String: Int] = [:]
    public var eventsByCountry: [String: Int] = [:]
    /// Net revenue in cents (purchases minus refunds).
    public var revenueByCountry: [String: Int] = [:]
    public var revenueByTier: [String: Int] = [:]
    public var revenueByUser: [String: Int] = [:]
    public var flaggedEvents = 0

    public init() {}

    public var totalRevenueCents: Int { revenueByCountry.values.reduce(0, +) }

    /// The `count` users with the highest net revenue (ties by id).
    public func topUsers(_ count: Int) -> [(user: String, revenueCents: Int)] {
        revenueByUser.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(count)
            .map { (user: $0.key, revenueCents: $0.value) }
    }
}
