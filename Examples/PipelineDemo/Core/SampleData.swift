/// The built-in sample: NDJSON events generated deterministically (the same lines on every run), with
/// a few bad lines and unknown users mixed in, so the demo shows failures being isolated and counted.
///
/// Rules for line index `i` (0-based; the line number is `i + 1`):
/// - `i % 100 == 37` → a bad line, cycling through truncated JSON, a missing `user` and a non-integer
///   `amount_cents` (30 bad lines in the default 3000, 10 of each kind);
/// - else `i % 250 == 111` → a valid event for an unknown user `u9xx` (12 in 3000);
/// - else a valid event for a known user `u001`…`u120`: 55 % views, 20 % carts, 20 % purchases,
///   5 % refunds, amounts 1.99–199.99.
public enum SampleData {
    /// The number of lines the demo processes by default.
    public static let defaultLineCount = 3_000

    /// The sample's lines, generated lazily as they are consumed: the same `count` lines for the same
    /// `seed`, on every iteration and every run.
    public static func lines(count: Int = defaultLineCount, seed: UInt64 = 42) -> Lines {
        Lines(count: count, seed: seed)
    }

    /// The sample's lines as a lazy sequence: only the line being processed exists in memory.
    public struct Lines: Sequence, Sendable {
        /// How many lines.
        public let count: Int
        let seed: UInt64

        /// Generates the lines from the start.
        public func makeIterator() -> Iterator {
            Iterator(count: count, random: SplitMix64(seed: seed))
        }

        /// Generates one line at a time.
        public struct Iterator: IteratorProtocol {
            let count: Int
            var random: SplitMix64
            var index = 0

            /// The next line, or `nil` after the last.
            public mutating func next() -> String? {
                guard index < count else { return nil }
                defer { index += 1 }
                return SampleData.line(index: index, random: &random)
            }
        }
    }

    /// Lines with a bad-line rule, an unknown-user rule, and known users, among the first `count`.
    public static func expectedCounts(lineCount count: Int) -> (bad: Int, unknownUsers: Int, valid: Int) {
        let bad = (0..<count).filter { $0 % 100 == 37 }.count
        let unknown = (0..<count).filter { $0 % 100 != 37 && $0 % 250 == 111 }.count
        return (bad, unknown, count - bad - unknown)
    }

    static func line(index: Int, random: inout SplitMix64) -> String {
        let id = 100_000 + index
        let second = index * 7
        let timestamp =
            "2026-03-01T\(twoDigits(9 + second / 3600)):\(twoDigits(second / 60 % 60)):\(twoDigits(second % 60))Z"
        let user: String
        if index % 250 == 111 {
            user = "u9" + twoDigits(index % 100)
        } else {
            user = "u" + threeDigits(1 + Int(random.next() % 120))
        }
        let roll = Int(random.next() % 100)
        let kind: Event.Kind = roll < 55 ? .view : roll < 75 ? .cart : roll < 95 ? .purchase : .refund
        let sku = "SKU-" + twoDigits(Int(random.next() % 40))
        let amount = kind == .purchase || kind == .refund ? 199 + Int(random.next() % 19_801) : 0
        let valid =
            "{\"id\":\(id),\"ts\":\"\(timestamp)\",\"user\":\"\(user)\",\"type\":\"\(kind.rawValue)\","
            + "\"sku\":\"\(sku)\",\"amount_cents\":\(amount)}"
        guard index % 100 == 37 else { return valid }
        switch (index / 100) % 3 {
        case 0:
            return String(valid.prefix(valid.count / 2))
        case 1:
            return "{\"id\":\(id),\"ts\":\"\(timestamp)\",\"type\":\"\(kind.rawValue)\",\"amount_cents\":\(amount)}"
        default:
            return "{\"id\":\(id),\"ts\":\"\(timestamp)\",\"user\":\"\(user)\",\"type\":\"purchase\","
                + "\"amount_cents\":\"12.99\"}"
        }
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func threeDigits(_ value: Int) -> String {
        value < 10 ? "00\(value)" : value < 100 ? "0\(value)" : "\(value)"
    }
}

/// A small, fast, deterministic pseudo-random generator (SplitMix64), so the sample is the same on
/// every platform and run.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
