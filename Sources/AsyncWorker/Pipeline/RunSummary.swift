/// What a ``Pipeline/run(_:progressInterval:fileID:line:progress:)`` did: how many messages, how many failed and
/// why, and how long it took.
///
/// ```swift
/// let summary = try pipeline.run(lines)
/// print(summary)   // "3000 messages in 412ms (7.28k msg/s): 2958 succeeded, 42 failed …"
/// ```
public struct RunSummary: Sendable, Equatable, CustomStringConvertible {
    /// Messages taken from the sequence and accepted by the pipeline.
    public var submitted: Int
    /// Messages that produced an output.
    public var succeeded: Int
    /// Messages that failed.
    public var failed: Int
    /// ``failed`` (messages, not attempts: a message retried 3 times and failed counts once) broken down by
    /// the final error's fully qualified type name.
    public var failuresByType: [String: Int]
    /// Time from the first message taken to the last one finished.
    public var elapsed: Duration
    /// `true` if the pipeline was shut down during the run: the rest of the sequence was not consumed.
    public var wasInterrupted: Bool

    /// Messages per second over ``elapsed``; zero for an empty run.
    public var throughput: Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(submitted) / seconds : 0
    }

    /// One line: counts, elapsed time, throughput and failures by type.
    public var description: String {
        var text = "\(submitted) messages in \(elapsed.compactDescription) "
        text += "(\(Self.compact(throughput)) msg/s): \(succeeded) succeeded, \(failed) failed"
        if !failuresByType.isEmpty {
            let types = failuresByType.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            text += " (" + types.map { "\($0.key) × \($0.value)" }.joined(separator: ", ") + ")"
        }
        if wasInterrupted { text += "; interrupted by shutdown" }
        return text
    }

    private static func compact(_ rate: Double) -> String {
        if rate >= 1_000_000 { return String(Int((rate / 100_000).rounded())).insertingDecimal() + "M" }
        if rate >= 1_000 { return String(Int((rate / 100).rounded())).insertingDecimal() + "k" }
        return String(Int(rate.rounded()))
    }
}

extension String {
    /// "123" → "12.3": places a decimal point before the last digit.
    fileprivate func insertingDecimal() -> String {
        guard count > 1 else { return "0." + self }
        return String(dropLast()) + "." + String(suffix(1))
    }
}
