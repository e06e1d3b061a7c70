/// A line that is not a valid event. Carries the line number, so bad lines can be reported.
public struct ParseError: Error, Equatable, CustomStringConvertible {
    /// What is wrong with the line.
    public enum Reason: Equatable, Hashable, Sendable {
        case malformedJSON
        case missingField(String)
        case invalidValue(field: String)
    }

    /// The 1-based input line.
    public var line: Int
    /// What is wrong.
    public var reason: Reason

    /// A short label for the kind of problem, to count bad lines by kind.
    public var kind: String {
        switch reason {
        case .malformedJSON: return "malformed JSON"
        case .missingField: return "missing field"
        case .invalidValue: return "invalid value"
        }
    }

    /// "line N: what is wrong".
    public var description: String {
        switch reason {
        case .malformedJSON: return "line \(line): malformed JSON"
        case .missingField(let field): return "line \(line): missing field \"\(field)\""
        case .invalidValue(let field): return "line \(line): invalid value for \"\(field)\""
        }
    }
}
