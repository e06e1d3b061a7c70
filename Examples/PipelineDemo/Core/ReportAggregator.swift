import AsyncWorker

/// The running totals the aggregate domain feeds: an actor, so concurrent messages update it safely.
public actor ReportAggregator {
    private var report = DemoReport()

    public init() {}

    /// Adds one event to the totals.
    public func add(_ enriched: EnrichedEvent) {
        let event = enriched.event
        report.events += 1
        report.eventsByKind[event.kind.rawValue, default: 0] += 1
        report.eventsByCountry[enriched.profile.country, default: 0] += 1
        report.revenueByCountry[enriched.profile.country, default: 0] += event.revenueCents
        report.revenueByTier[enriched.profile.tier.rawValue, default: 0] += event.revenueCents
        report.revenueByUser[event.user, default: 0] += event.revenueCents
        if enriched.isFlagged { report.flaggedEvents += 1 }
    }

    /// The totals so far.
    public func snapshot() -> DemoReport { report }
}
