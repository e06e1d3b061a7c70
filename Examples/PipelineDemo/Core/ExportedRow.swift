/// What the export domain wrote for one event.
public struct ExportedRow: Sendable, Equatable {
    /// The exported event's id.
    public var eventID: Int
    /// The size of its CSV row.
    public var bytes: Int
}
