import AsyncWorker

/// Domain 4: appends each event to the CSV export.
public struct ExportEvent: AsyncDomain {
    let exporter: CSVExporter

    public init(exporter: CSVExporter) {
        self.exporter = exporter
    }

    public var name: String { "export" }

    public func execute(_ event: EnrichedEvent) async throws -> ExportedRow {
        ExportedRow(eventID: event.event.id, bytes: try await exporter.append(event))
    }
}
