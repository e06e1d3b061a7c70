extension PipelineSnapshot {
    /// The snapshot as a fixed-width text table, one row per domain, then the failed attempts by error
    /// type and the pipeline's message totals. Ends without a newline.
    ///
    /// The per-domain columns count **attempts** (a retried message counts each failed attempt); the last
    /// line counts **messages**, like ``RunSummary``. Without retries the two agree.
    ///
    /// ```text
    /// domain  ok attempts  failed attempts     p50     p95     p99
    /// Parse           998                2  12.1µs  30.5µs  41.0µs
    /// Enrich          998                0  1.10ms  1.45ms  2.02ms
    /// failed attempts by type:
    ///   Parse: MyApp.ParseError × 2
    /// messages: 998 completed, 2 failed (percentiles over the last ≤ 1024 attempts of each domain)
    /// ```
    public var table: String {
        let header = ["domain", "ok attempts", "failed attempts", "p50", "p95", "p99"]
        var rows = [header]
        for domain in domains {
            rows.append([
                domain.name,
                String(domain.successes),
                String(domain.failures),
                domain.p50.map(\.compactDescription) ?? "-",
                domain.p95.map(\.compactDescription) ?? "-",
                domain.p99.map(\.compactDescription) ?? "-",
            ])
        }
        var widths = header.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() {
                widths[column] = max(widths[column], cell.count)
            }
        }
        var lines = rows.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                // The name column is left-aligned, the numbers right-aligned.
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
        let failing = domains.filter { !$0.failuresByType.isEmpty }
        if !failing.isEmpty {
            lines.append("failed attempts by type:")
            for domain in failing {
                let types = domain.failuresByType.sorted {
                    $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key
                }
                let text = types.map { "\($0.key) × \($0.value)" }.joined(separator: ", ")
                lines.append("  \(domain.name): \(text)")
            }
        }
        let retrying = domains.filter { $0.retries > 0 }
        if !retrying.isEmpty {
            lines.append("retries: " + retrying.map { "\($0.name) × \($0.retries)" }.joined(separator: ", "))
        }
        lines.append(
            "messages: \(completedRuns) completed, \(failedRuns) failed "
                + "(percentiles over the last ≤ \(windowSize) attempts of each domain)"
        )
        return lines.joined(separator: "\n")
    }
}
