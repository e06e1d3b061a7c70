/// What went wrong in a demo run, by category, with the first few examples (lowest line numbers).
public struct FailureReport: Sendable, Equatable {
    /// Bad input lines by kind ("malformed JSON", "missing field", "invalid value").
    public var badLinesByKind: [String: Int] = [:]
    /// Events whose user the directory doesn't know.
    public var unknownUsers = 0
    /// Anything else, by error type (export errors, cancellations, shutdown).
    public var otherByType: [String: Int] = [:]
    /// Up to ``FailureLog/exampleLimit`` failures, as "line N: what", in line order.
    public var examples: [String] = []

    /// All bad lines.
    public var badLines: Int { badLinesByKind.values.reduce(0, +) }
    /// All failures.
    public var total: Int { badLines + unknownUsers + otherByType.values.reduce(0, +) }
}
