// The flagship example: a synchronous command-line tool that pushes NDJSON events through a real async
// pipeline — parse → enrich (awaits a cached directory lookup and a remote risk score) → aggregate
// (an actor) → export (a CSV file) — on AsyncWorker's shared worker thread, with bounded in-flight work.
//
//     swift run pipeline-demo                     # the built-in sample: 3000 events, a few bad ones
//     swift run pipeline-demo events.ndjson       # your own data ("-" reads standard input)
//     swift run pipeline-demo --help
//
// Plain top-level code, no async main: the pipeline is driven with blocking calls.

import AsyncWorker
import Foundation
import PipelineDemoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

let usage = """
    usage: pipeline-demo [FILE | -] [--out DIR] [--max-in-flight N] [--lines N]

      FILE               NDJSON events, one per line; "-" reads standard input.
                         Without FILE, a built-in sample is generated (deterministic, a few bad lines).
      --out DIR          where events.csv and report.md go (default: \(DemoConfiguration.defaultOutputDirectory.path))
      --max-in-flight N  the pipeline's bound on messages in flight (default 64)
      --lines N          size of the built-in sample (default \(SampleData.defaultLineCount))

    An event looks like:
      {"id":17,"ts":"2026-03-01T09:12:44Z","user":"u042","type":"purchase","sku":"SKU-07","amount_cents":1299}
    type is view, cart, purchase or refund; users u001…u899 are known to the simulated directory.
    Bad lines are counted and reported, never fatal.
    """

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("pipeline-demo: \(message)\n".utf8))
    exit(status)
}

// MARK: Arguments

var inputPath: String?
var configuration = DemoConfiguration(outputDirectory: DemoConfiguration.defaultOutputDirectory)
var sampleLines = SampleData.defaultLineCount
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "-h", "--help":
        print(usage)
        exit(0)
    case "--out":
        guard let value = arguments.popFirst() else { fail("--out needs a directory\n\n\(usage)", status: 2) }
        configuration.outputDirectory = URL(fileURLWithPath: value, isDirectory: true)
    case "--max-in-flight":
        guard let value = arguments.popFirst().flatMap({ Int($0) }), value > 0 else {
            fail("--max-in-flight needs a positive number\n\n\(usage)", status: 2)
        }
        configuration.maxInFlight = value
    case "--lines":
        guard let value = arguments.popFirst().flatMap({ Int($0) }), value >= 0 else {
            fail("--lines needs a number\n\n\(usage)", status: 2)
        }
        sampleLines = value
    case let path where inputPath == nil && (path == "-" || !path.hasPrefix("-")):
        inputPath = path
    default:
        fail("unexpected argument \"\(argument)\"\n\n\(usage)", status: 2)
    }
}

// MARK: Input

let lines: any Sequence<InputLine>
let expectedTotal: Int?
if let inputPath {
    do {
        lines = try LineReader(path: inputPath).numberedLines()
    } catch {
        fail("\(error)", status: 1)
    }
    expectedTotal = nil
    print("input: \(inputPath == "-" ? "standard input" : inputPath)")
} else {
    lines = SampleData.lines(count: sampleLines).numberedLines()
    expectedTotal = sampleLines
    let expected = SampleData.expectedCounts(lineCount: sampleLines)
    print(
        "input: built-in sample, \(sampleLines) NDJSON events, generated deterministically "
            + "(\(expected.bad) bad lines and \(expected.unknownUsers) unknown users on purpose)"
    )
}
print(
    "pipeline: parse → enrich → aggregate → export, on AsyncWorker's shared worker thread, "
        + "at most \(configuration.maxInFlight) in flight"
)

// MARK: Progress

/// Shows the run's progress: one line rewritten in place on a terminal, plain lines every 1000 messages
/// otherwise (a pipe or a file). Called on this (the main) thread by `Pipeline.run`.
final class ProgressPrinter {
    let isTerminal: Bool
    let expectedTotal: Int?
    private var nextPlainReport = 1_000

    init(isTerminal: Bool, expectedTotal: Int?) {
        self.isTerminal = isTerminal
        self.expectedTotal = expectedTotal
    }

    func show(_ progress: RunProgress) {
        if isTerminal {
            var line = ""
            if let expectedTotal, expectedTotal > 0 {
                let width = 24
                let filled = min(width, progress.finished * width / expectedTotal)
                line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                line += "] \(progress.finished)/\(expectedTotal)"
            } else {
                line += "\(progress.finished) lines"
            }
            line += "  ok \(progress.succeeded)  failed \(progress.failed)  in flight \(progress.inFlight)"
            line += "  \(Int(rate(progress))) lines/s"
            // Rewrite the same terminal line: carriage return, erase the line.
            print("\r\u{1B}[2K" + line, terminator: "")
            fflush(nil)
        } else if progress.finished >= nextPlainReport {
            print("progress: \(progress.finished) lines done (\(progress.succeeded) ok, \(progress.failed) failed)")
            while nextPlainReport <= progress.finished { nextPlainReport += 1_000 }
        }
    }

    /// Clears the progress line before the summary is printed.
    func finish() {
        if isTerminal { print("\r\u{1B}[2K", terminator: "") }
    }

    private func rate(_ progress: RunProgress) -> Double {
        let (seconds, attoseconds) = progress.elapsed.components
        let elapsed = Double(seconds) + Double(attoseconds) / 1e18
        return elapsed > 0 ? Double(progress.finished) / elapsed : 0
    }
}

let progressPrinter = ProgressPrinter(isTerminal: isatty(STDOUT_FILENO) == 1, expectedTotal: expectedTotal)

// MARK: Run

let result: DemoResult
do {
    result = try DemoProcessor.process(lines, configuration: configuration, progress: progressPrinter.show)
} catch {
    progressPrinter.finish()
    fail("\(error)", status: 1)
}
progressPrinter.finish()

print(result.summaryText)
print("\nmonitor (per domain: successes, failures, duration percentiles):")
print(result.monitor.table)
print("\nwrote \(result.csvFile.path) (\(result.exportedRows) rows) and \(result.reportFile.path)")
