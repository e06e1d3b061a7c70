import AsyncWorker

/// Domain 4: appends each event to the CSV export.
public struct ExportEvent: AsyncDomain {
    let exporter: CSVExporter

    /// A domain writing to `exporter`.
    public init(exporter: CSVExporter) {
        self.exporter = exporter
    }

    /// The monitor's name for this domain.
    public var name: String { "export" }

    /// Appends the event's row.
    public func execute(_ event: EnrichedEvent) async throws -> ExportedRow {
        ExportedRow(eventID: event.event.id, bytes: try await exporter.append(event))
    }
}
