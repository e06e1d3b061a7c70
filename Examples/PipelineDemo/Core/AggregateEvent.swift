import AsyncWorker

/// Domain 3: adds each event to the ``ReportAggregator`` and passes it on.
public struct AggregateEvent: AsyncDomain {
    let aggregator: ReportAggregator

    public init(aggregator: ReportAggregator) {
        self.aggregator = aggregator
    }

    public var name: String { "aggregate" }

    public func execute(_ event: EnrichedEvent) async throws -> EnrichedEvent {
        await aggregator.add(event)
        return event
    }
}
