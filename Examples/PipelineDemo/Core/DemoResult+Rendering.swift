import AsyncWorker

extension DemoResult {
    /// The run's outcome as text for the terminal: counts, failures, the async work and the revenue.
    public var summaryText: String {
        var lines: [String] = []
        lines.append(
            "processed \(summary.submitted) lines in \(Self.seconds(summary.elapsed)) "
                + "(\(Int(summary.throughput.rounded())) lines/s): \(summary.succeeded) exported, \(summary.failed) failed"
        )
        let kinds = failures.badLinesByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        lines.append(
            "  bad lines:      \(failures.badLines)" + (kinds.isEmpty ? "" : " (" + kinds.joined(separator: ", ") + ")")
        )
        lines.append("  unknown users:  \(failures.unknownUsers)")
        for (type, count) in failures.otherByType.sorted(by: { $0.key < $1.key }) {
            lines.append("  other failures: \(count) × \(type)")
        }
        for (index, example) in failures.examples.enumerated() {
            lines.append((index == 0 ? "  first failures: " : "                  ") + example)
        }
        let sequential =
            configuration.riskLatency * riskCalls + configuration.profileLatency * directoryLookups
        lines.append(
            "  async work:     \(riskCalls) risk-service calls (\(Self.milliseconds(configuration.riskLatency)) each) and "
                + "\(directoryLookups) directory lookups (\(Self.milliseconds(configuration.profileLatency)) each), "
                + "awaited concurrently"
        )
        lines.append(
            "                  on one worker thread: \(Self.seconds(sequential)) of latency one after the other, "
                + "\(Self.seconds(summary.elapsed)) in all; directory cache hits: \(directoryHits)"
        )
        lines.append(
            "  revenue:        net \(Self.money(report.totalRevenueCents)) over \(report.events) events in "
                + "\(report.revenueByCountry.count) countries; \(report.flaggedEvents) events flagged by risk scoring"
        )
        lines.append("revenue by country:")
        for (country, cents) in report.revenueByCountry.sorted(by: { $0.value > $1.value }) {
            let events = report.eventsByCountry[country] ?? 0
            lines.append(
                "  \(country)  \(Self.padLeft(Self.money(cents), 10))  (\(events) event\(events == 1 ? "" : "s"))"
            )
        }
        let top = report.topUsers(3).map { "\($0.user) \(Self.money($0.revenueCents))" }
        lines.append("top users: " + top.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    /// The report written to `report.md`.
    public var markdownReport: String {
        var text = "# pipeline-demo report\n\n"
        text += "- lines processed: \(summary.submitted) in \(Self.seconds(summary.elapsed))\n"
        text += "- exported: \(summary.succeeded) rows to `\(csvFile.lastPathComponent)` (\(exportedBytes) bytes)\n"
        text += "- failed: \(summary.failed) (bad lines \(failures.badLines), unknown users \(failures.unknownUsers))\n"
        text += "- net revenue: \(Self.money(report.totalRevenueCents)); flagged events: \(report.flaggedEvents)\n\n"
        text += "## Revenue by country\n\n| country | events | net revenue |\n| --- | ---: | ---: |\n"
        for (country, cents) in report.revenueByCountry.sorted(by: { $0.key < $1.key }) {
            text += "| \(country) | \(report.eventsByCountry[country] ?? 0) | \(Self.money(cents)) |\n"
        }
        text += "\n## Revenue by tier\n\n| tier | net revenue |\n| --- | ---: |\n"
        for (tier, cents) in report.revenueByTier.sorted(by: { $0.key < $1.key }) {
            text += "| \(tier) | \(Self.money(cents)) |\n"
        }
        text += "\n## Events by type\n\n| type | events |\n| --- | ---: |\n"
        for (kind, count) in report.eventsByKind.sorted(by: { $0.key < $1.key }) {
            text += "| \(kind) | \(count) |\n"
        }
        text += "\n## Top users\n\n| user | net revenue |\n| --- | ---: |\n"
        for entry in report.topUsers(10) {
            text += "| \(entry.user) | \(Self.money(entry.revenueCents)) |\n"
        }
        if !failures.examples.isEmpty {
            text += "\n## First failures\n\n"
            for example in failures.examples { text += "- \(example)\n" }
        }
        text += "\n## Pipeline monitor\n\n```text\n\(monitor.table)\n```\n"
        return text
    }

    /// Cents as "12,345.67".
    static func money(_ cents: Int) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        var whole = String(magnitude / 100)
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole.removeLast(3)
        }
        let fraction = magnitude % 100
        return sign + whole + grouped + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }

    /// A duration in seconds with two decimals, e.g. "0.41s".
    static func seconds(_ duration: Duration) -> String {
        let hundredths = Int(
            (Double(duration.components.seconds) * 100 + Double(duration.components.attoseconds) / 1e16).rounded()
        )
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)s"
    }

    /// A short duration in milliseconds, e.g. "2ms", "0.5ms".
    static func milliseconds(_ duration: Duration) -> String {
        let micros = Int(
            (Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12).rounded()
        )
        var text = "\(micros / 1000)"
        var fraction = micros % 1000
        if fraction != 0 {
            var digits = ""
            for _ in 0..<3 {
                digits += String(fraction / 100)
                fraction = fraction % 100 * 10
            }
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "ms"
    }

    private static func padLeft(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
