import Foundation

/// Writes enriched events as CSV rows to a file, buffered: what the export domain awaits.
public actor CSVExporter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    /// Rows appended so far.
    public private(set) var rows = 0
    /// Bytes appended so far, header included.
    public private(set) var bytes = 0

    static let header = "id,line,timestamp,user,country,tier,type,sku,amount_cents,risk_score\n"

    /// Creates (or truncates) the file at `url` and writes the header.
    public init(url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: Data(Self.header.utf8)) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        bytes = Self.header.utf8.count
    }

    /// Appends one row; returns its size in bytes.
    public func append(_ enriched: EnrichedEvent) throws -> Int {
        let event = enriched.event
        let row =
            "\(event.id),\(event.line),\(event.timestamp),\(event.user),\(enriched.profile.country),"
            + "\(enriched.profile.tier.rawValue),\(event.kind.rawValue),\(event.sku ?? ""),"
            + "\(event.amountCents),\(enriched.riskScore)\n"
        buffer.append(contentsOf: row.utf8)
        rows += 1
        bytes += row.utf8.count
        if buffer.count >= 64 * 1024 { try flush() }
        return row.utf8.count
    }

    /// Writes what is buffered and closes the file.
    public func finish() throws {
        try flush()
        try handle.close()
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
