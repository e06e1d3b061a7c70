import AsyncWorker

/// Domain 3: adds each event to the ``ReportAggregator`` and passes it on.
public struct AggregateEvent: AsyncDomain {
    let aggregator: ReportAggregator

    /// A domain feeding `aggregator`.
    public init(aggregator: ReportAggregator) {
        self.aggregator = aggregator
    }

    /// The monitor's name for this domain.
    public var name: String { "aggregate" }

    /// Adds `event` to the totals and returns it unchanged.
    public func execute(_ event: EnrichedEvent) async throws -> EnrichedEvent {
        await aggregator.add(event)
        return event
    }
}
