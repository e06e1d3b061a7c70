/// One line of NDJSON input and where it came from.
public struct InputLine: Sendable, Equatable {
    /// 1-based line number in the input.
    public var number: Int
    /// The line without its line break.
    public var text: String

    /// Line `number` with `text`.
    public init(number: Int, text: String) {
        self.number = number
        self.text = text
    }
}

extension Sequence<String> {
    /// The lines numbered from 1, blank lines left out (they keep their number), lazily.
    public func numberedLines() -> some Sequence<InputLine> {
        self.lazy.enumerated()
            .filter { !$0.element.allSatisfy(\.isWhitespace) }
            .map { InputLine(number: $0.offset + 1, text: $0.element) }
    }
}
