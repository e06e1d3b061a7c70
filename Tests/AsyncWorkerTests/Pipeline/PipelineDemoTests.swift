import Foundation
import PipelineDemoCore
import Testing

@testable import AsyncWorker

@Suite("pipeline-demo processing", .timeLimit(.minutes(2)))
struct PipelineDemoTests {
    /// A fresh output directory per test.
    func makeConfiguration(worker: ThreadWorker) -> DemoConfiguration {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("pipeline-demo-test-\(UUID().uuidString)", isDirectory: true)
        var configuration = DemoConfiguration(outputDirectory: directory)
        configuration.worker = worker
        return configuration
    }

    /// What an independent reading of the sample says (Codable, not the demo's parser).
    struct Expected {
        var valid = 0
        var revenueCents = 0
        var byKind: [String: Int] = [:]
    }

    struct SampleEvent: Decodable {
        var id: Int
        var ts: String
        var user: String
        var type: String
        var amount_cents: Int
    }

    func readIndependently(_ lines: some Sequence<String>) -> Expected {
        var expected = Expected()
        for line in lines {
            guard let event = try? JSONDecoder().decode(SampleEvent.self, from: Data(line.utf8)),
                let number = Int(event.user.dropFirst()), (1...899).contains(number)
            else { continue }
            expected.valid += 1
            expected.byKind[event.type, default: 0] += 1
            if event.type == "purchase" { expected.revenueCents += event.amount_cents }
            if event.type == "refund" { expected.revenueCents -= event.amount_cents }
        }
        return expected
    }

    @Test("the sample is deterministic and has the advertised bad lines and unknown users")
    func sampleIsDeterministic() {
        let first = Array(SampleData.lines())
        let second = Array(SampleData.lines())
        #expect(first.count == 3_000)
        #expect(first == second)
        let counts = SampleData.expectedCounts(lineCount: 3_000)
        #expect(counts.bad == 30)
        #expect(counts.unknownUsers == 12)
        #expect(counts.valid == 2_958)
        #expect(readIndependently(first).valid == 2_958)
    }

    @Test("the flagship processes its sample: totals, failures, monitor and files add up")
    func flagshipTotals() throws {
        let worker = ThreadWorker(name: "pl-demo")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let configuration = makeConfiguration(worker: worker)
        defer { try? FileManager.default.removeItem(at: configuration.outputDirectory) }
        let progressCalls = Counter()
        let result = watchdog(.seconds(60)) {
            try DemoProcessor.process(SampleData.lines().numberedLines(), configuration: configuration) { progress in
                #expect(progress.inFlight <= configuration.maxInFlight)
                progressCalls.increment()
            }
        }
        guard let result else { return }
        let expected = readIndependently(SampleData.lines())

        #expect(result.summary.submitted == 3_000)
        #expect(result.summary.succeeded == 2_958)
        #expect(result.summary.failed == 42)
        #expect(!result.summary.wasInterrupted)
        #expect(progressCalls.count >= 1)

        #expect(result.failures.badLines == 30)
        #expect(result.failures.badLinesByKind == ["malformed JSON": 10, "missing field": 10, "invalid value": 10])
        #expect(result.failures.unknownUsers == 12)
        #expect(result.failures.otherByType.isEmpty)
        #expect(result.failures.examples.first == "line 38: malformed JSON")

        #expect(result.report.events == expected.valid)
        #expect(result.report.eventsByKind == expected.byKind)
        #expect(result.report.totalRevenueCents == expected.revenueCents)
        #expect(result.report.eventsByCountry.values.reduce(0, +) == 2_958)

        let monitor = result.monitor
        #expect(monitor.domains.map(\.name) == ["parse", "enrich", "aggregate", "export"])
        #expect(monitor.domains.map(\.successes) == [2_970, 2_958, 2_958, 2_958])
        #expect(monitor.domains.map(\.failures) == [30, 12, 0, 0])
        #expect(monitor.completedRuns == 2_958)
        #expect(monitor.failedRuns == 42)
        #expect(result.directoryHits + result.directoryLookups == 2_970)

        // The CSV has a header and one row per exported event; its risk scores agree with the report.
        let csv = try String(contentsOf: result.csvFile, encoding: .utf8)
        let rows = csv.split(separator: "\n").dropFirst()
        #expect(rows.count == 2_958)
        #expect(result.exportedRows == 2_958)
        #expect(result.exportedBytes == csv.utf8.count)
        let flagged = rows.filter { (Int($0.split(separator: ",").last ?? "") ?? 0) >= 97 }.count
        #expect(flagged == result.report.flaggedEvents)
        let report = try String(contentsOf: result.reportFile, encoding: .utf8)
        #expect(report.contains("## Revenue by country"))
        #expect(report.contains(monitor.table))
    }

    @Test("bad input lines (garbage, invalid UTF-8, blanks, CRLF) are counted and reported, never fatal")
    func badInputIsCounted() throws {
        let worker = ThreadWorker(name: "pl-demo-bad")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let configuration = makeConfiguration(worker: worker)
        defer { try? FileManager.default.removeItem(at: configuration.outputDirectory) }
        try FileManager.default.createDirectory(at: configuration.outputDirectory, withIntermediateDirectories: true)
        let input = configuration.outputDirectory.appendingPathComponent("input.ndjson")
        var bytes = Data()
        func append(_ text: String) { bytes.append(contentsOf: Array(text.utf8)) }
        append(#"{"id":1,"ts":"t","user":"u001","type":"purchase","amount_cents":500}"# + "\r\n")
        append("\n   \nnot json\n")
        bytes.append(contentsOf: [0xFF, 0xFE, 0x7B, 0x0A])  // invalid UTF-8
        append(#"{"id":2,"ts":"t","user":"u002","type":"teleport"}"# + "\n")
        append(#"{"id":3,"ts":"t","type":"view"}"# + "\n")
        append(#"{"id":4,"ts":"t","user":"u950","type":"view"}"# + "\n")
        append(String(repeating: "x", count: 100_000) + "\n")
        append(#"{"id":5,"ts":"t","user":"u003","type":"refund","amount_cents":200}"#)  // no final newline
        try bytes.write(to: input)

        let result = watchdog {
            try DemoProcessor.process(LineReader(path: input.path).numberedLines(), configuration: configuration)
        }
        guard let result else { return }
        #expect(result.summary.submitted == 8)  // the blank lines are skipped
        #expect(result.summary.succeeded == 2)
        #expect(result.failures.badLinesByKind == ["malformed JSON": 3, "invalid value": 1, "missing field": 1])
        #expect(result.failures.unknownUsers == 1)
        #expect(result.report.totalRevenueCents == 300)
        #expect(
            result.failures.examples == [
                "line 4: malformed JSON", "line 5: malformed JSON", "line 6: invalid value for \"type\"",
                "line 7: missing field \"user\"", "line 8: unknown user \"u950\"", "line 9: malformed JSON",
            ]
        )
    }

    @Test("a missing input file is reported with the system's reason")
    func missingFile() {
        #expect(throws: LineReader.OpenError.self) { try LineReader(path: "/nonexistent/input.ndjson") }
        let error = (try? LineReader(path: "/nonexistent/input.ndjson")).map { _ in "opened" }
        #expect(error == nil)
    }
}
