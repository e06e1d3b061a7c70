extension Duration {
    /// A short human-readable form with three significant digits: `850ns`, `12.3µs`, `4.56ms`, `1.20s`.
    var compactDescription: String {
        let (seconds, attoseconds) = components
        let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        let magnitude = abs(nanoseconds)
        if magnitude < 1e3 { return "\(Int(nanoseconds.rounded()))ns" }
        if magnitude < 1e6 { return Self.threeDigits(nanoseconds / 1e3) + "µs" }
        if magnitude < 1e9 { return Self.threeDigits(nanoseconds / 1e6) + "ms" }
        return Self.threeDigits(nanoseconds / 1e9) + "s"
    }

    /// `value` with two decimals below 10, one below 100, none above (no Foundation formatting).
    private static func threeDigits(_ value: Double) -> String {
        let decimals = abs(value) < 10 ? 2 : abs(value) < 100 ? 1 : 0
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        guard decimals > 0 else { return String(scaled) }
        let sign = scaled < 0 ? "-" : ""
        let whole = abs(scaled) / Int(scale)
        var fraction = String(abs(scaled) % Int(scale))
        while fraction.count < decimals { fraction = "0" + fraction }
        return "\(sign)\(whole).\(fraction)"
    }
}
