// The measuring machinery: configuration, clock, statistics, resident-memory probes, OS threads and the
// result table. Nothing here knows about AsyncWorker.

import Dispatch
import Foundation
import Synchronization

#if canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#elseif canImport(Glibc)
import Glibc
#endif

// MARK: - Configuration

/// What to run and how much of it. `--quick` is the CI smoke mode; the default is the full run.
struct BenchConfig: Sendable {
    var isQuick = false
    /// Rounds per scenario; in each round every contender runs once, in a fixed order.
    var rounds = 5
    /// Blocking round trips per contender per round (latency sampled for every call).
    var roundTripCalls = 100_000
    /// Fire-and-forget tasks per contender per round, spread over the caller threads.
    var fireAndForgetTasks = 1_000_000
    /// Tasks suspended at once in the memory scenario.
    var suspendedTasks = 1_000_000
    /// Tasks the runaway producer submits.
    var producerTasks = 1_000_000
    /// Timed-out calls per contender per round.
    var timeoutTries = 40
    /// Cold starts (new worker, first round trip, shutdown) per contender per round.
    var coldStarts = 200
    /// Messages posted through the 4-domain pipeline per round.
    var pipelineMessages = 50_000
    /// Blocking `send`s through the pipeline per round (latency sampled for every call).
    var pipelineSends = 10_000
    /// Only this scenario, if set.
    var onlyScenario: String?
    /// Set in the child process that measures one placement (`--placement`): it prints its rows in a
    /// machine-readable form for the parent instead of the table.
    var placementChild: Placement?
    /// Blocking round trips per contender per round in each placement.
    var placementRoundTripCalls = 50_000
    /// Fire-and-forget tasks per contender per round in each placement.
    var placementFireAndForgetTasks = 300_000
    /// How long the idle worker's CPU use is sampled, in milliseconds.
    var idleSampleMilliseconds = 500

    static let quick = BenchConfig(
        isQuick: true,
        rounds: 3,
        roundTripCalls: 5_000,
        fireAndForgetTasks: 50_000,
        suspendedTasks: 50_000,
        producerTasks: 50_000,
        timeoutTries: 5,
        coldStarts: 10,
        pipelineMessages: 20_000,
        pipelineSends: 2_000,
        placementRoundTripCalls: 5_000,
        placementFireAndForgetTasks: 50_000,
        idleSampleMilliseconds: 200
    )

    var modeName: String { isQuick ? "quick (smoke test: small counts, not for conclusions)" : "full" }

    /// Parses the command line; prints usage and exits on `--help` or an unknown argument.
    static func parse(_ arguments: [String], scenarioNames: [String]) -> BenchConfig {
        var config = BenchConfig()
        var rounds: Int?
        var index = 1
        func fail(_ message: String) -> Never {
            printError("async-worker-bench: \(message)\n\n\(usage(scenarioNames))")
            exit(2)
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--quick":
                let only = config.onlyScenario
                let child = config.placementChild
                config = .quick
                config.onlyScenario = only
                config.placementChild = child
            case "--placement":
                index += 1
                guard index < arguments.count, let placement = Placement(rawValue: arguments[index]) else {
                    fail("--placement needs one of: \(Placement.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                config.placementChild = placement
            case "--scenario":
                index += 1
                guard index < arguments.count, scenarioNames.contains(arguments[index]) else {
                    fail("--scenario needs one of: \(scenarioNames.joined(separator: ", "))")
                }
                config.onlyScenario = arguments[index]
            case "--rounds":
                index += 1
                guard index < arguments.count, let value = Int(arguments[index]), value >= 1 else {
                    fail("--rounds needs a positive integer")
                }
                rounds = value
            case "--help", "-h":
                print(usage(scenarioNames))
                exit(0)
            default:
                fail("unknown argument '\(arguments[index])'")
            }
            index += 1
        }
        if let rounds { config.rounds = rounds }
        return config
    }

    static func usage(_ scenarioNames: [String]) -> String {
        """
        usage: async-worker-bench [--quick] [--scenario NAME] [--rounds N]
          --quick          smoke mode: small counts, 3 rounds (CI)
          --scenario NAME  run one scenario: \(scenarioNames.joined(separator: ", "))
          --rounds N       override the number of rounds (default 5, quick 3)
          --placement P    (internal) measure the round trip or fire-and-forget scenario in placement P
                           only and print machine-readable rows: the parent runs itself so for one-cpu
        """
    }
}

// MARK: - Clock and output

/// Nanoseconds on the monotonic clock.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Progress goes to stderr so stdout carries only the header and the table.
func progress(_ text: String) {
    printError("  [bench] \(text)")
}

/// Runs `body`, reporting its wall time as progress (the figure is not part of the table).
func timed<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
    let start = monotonicNanoseconds()
    defer { progress(String(format: "  %@: %.2f s", label, Double(monotonicNanoseconds() - start) / 1e9)) }
    return try body()
}

/// Sleeps the calling thread (used only while polling for a condition, never inside a timed section
/// whose figure depends on the poll interval being short).
func sleepMicroseconds(_ microseconds: UInt32) {
    usleep(microseconds)
}

// MARK: - Statistics

func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of nothing")
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Nearest-rank percentile (`fraction` in 0...1) of an ascending buffer.
func percentile(ofSorted sorted: UnsafeMutableBufferPointer<UInt64>, _ fraction: Double) -> Double {
    precondition(!sorted.isEmpty, "percentile of nothing")
    let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
    return Double(sorted[min(max(rank, 0), sorted.count - 1)])
}

func percentile(ofSorted sorted: [Double], _ fraction: Double) -> Double {
    precondition(!sorted.isEmpty, "percentile of nothing")
    let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

/// Latency of one batch of calls, in nanoseconds.
struct RunLatency {
    var p50: Double
    var p90: Double = 0
    var p99: Double
    var mean: Double
    /// CPU time of the whole process during the batch, per call (0 where not measured).
    var cpuPerCall: Double = 0
}

/// Times every call of a batch into a buffer allocated (and touched) once, so sampling allocates nothing.
final class LatencySampler {
    private var samples: [UInt64]

    init(capacity: Int) {
        samples = Array(repeating: 0, count: capacity)
    }

    func measure(calls: Int, _ body: () throws -> Void) rethrows -> RunLatency {
        precondition(calls > 0 && calls <= samples.count, "sampler too small")
        return try samples.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<calls {
                let start = monotonicNanoseconds()
                try body()
                buffer[index] = monotonicNanoseconds() &- start
            }
            var batch = UnsafeMutableBufferPointer(rebasing: buffer[0..<calls])
            batch.sort()
            var total: UInt64 = 0
            for sample in batch { total &+= sample }
            return RunLatency(
                p50: percentile(ofSorted: batch, 0.50),
                p90: percentile(ofSorted: batch, 0.90),
                p99: percentile(ofSorted: batch, 0.99),
                mean: Double(total) / Double(calls)
            )
        }
    }
}

// MARK: - Memory

/// The process's resident set (`VmRSS` in /proc/self/status), in bytes.
func residentBytes() -> Int {
    statusField("VmRSS:") * 1024
}

/// Reads one "Name:   123 kB" field of /proc/self/status, in KiB (0 if absent).
private func statusField(_ name: String) -> Int {
    let descriptor = open("/proc/self/status", O_RDONLY)
    guard descriptor >= 0 else { return 0 }
    defer { close(descriptor) }
    var bytes = [UInt8](repeating: 0, count: 8192)
    var length = 0
    while length < bytes.count {
        let count = bytes.withUnsafeMutableBytes { raw in
            read(descriptor, raw.baseAddress! + length, raw.count - length)
        }
        if count <= 0 { break }
        length += count
    }
    let text = String(decoding: bytes[0..<length], as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix(name) {
        let digits = line.dropFirst(name.count).filter { $0.isNumber }
        return Int(digits) ?? 0
    }
    return 0
}

/// Gives freed heap memory back to the OS, so the next resident-memory baseline starts low and a
/// measurement does not silently reuse what an earlier one freed.
/// `malloc_trim` is glibc's but not in the Swift Glibc module: looked up once by name.
func releaseFreedMemory() {
    _ = mallocTrim?(0)
}

private let mallocTrim: (@convention(c) (Int) -> Int32)? = {
    guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
}()

// MARK: - Threads

/// A plain OS thread that can be joined (once).
final class JoinableThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private let handle: pthread_t

    init(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        // `pthread_t` is an integer on glibc and a pointer on musl and Darwin, where `pthread_create`
        // takes an optional out-parameter; the start routine's argument is cast to the optional type,
        // which reads both signatures (as swift-nio does).
        #if canImport(Glibc) && !canImport(Musl)
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, joinableThreadEntry, context)
        #else
        var created: pthread_t?
        let status = pthread_create(&created, nil, joinableThreadEntry, context)
        let handle = created!
        #endif
        precondition(status == 0, "pthread_create failed: \(status)")
        self.handle = handle
    }

    fileprivate static func run(_ context: UnsafeMutableRawPointer?) {
        Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
    }

    func join() {
        pthread_join(handle, nil)
    }
}

#if canImport(Darwin)
private let joinableThreadEntry: @convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? = {
    JoinableThread.run($0 as UnsafeMutableRawPointer?)
    return nil
}
#else
private let joinableThreadEntry: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = {
    JoinableThread.run($0 as UnsafeMutableRawPointer?)
    return nil
}
#endif

/// Runs `body(index)` on `count` fresh threads released together; returns when all bodies returned.
/// The start instant is taken just before the threads are released, the end once the last returned.
func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) -> (start: UInt64, end: UInt64) {
    let ready = DispatchSemaphore(value: 0)
    let go = DispatchSemaphore(value: 0)
    let finished = DispatchGroup()
    var threads: [JoinableThread] = []
    for index in 0..<count {
        finished.enter()
        threads.append(
            JoinableThread {
                ready.signal()
                go.wait()
                body(index)
                finished.leave()
            }
        )
    }
    for _ in 0..<count { ready.wait() }
    let start = monotonicNanoseconds()
    for _ in 0..<count { go.signal() }
    finished.wait()
    let end = monotonicNanoseconds()
    while let thread = threads.popLast() { thread.join() }
    return (start, end)
}

/// A counter any thread may bump.
final class AtomicCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Adds one; returns the new value.
    @inline(__always)
    @discardableResult
    func increment() -> Int {
        value.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
    }

    var current: Int { value.load(ordering: .acquiring) }
}

/// Waits (polling) until `condition` holds; gives up after `limit` seconds and says so.
func waitUntil(_ what: String, limitSeconds: Double = 120, _ condition: () -> Bool) {
    let deadline = monotonicNanoseconds() + UInt64(limitSeconds * 1e9)
    while !condition() {
        if monotonicNanoseconds() > deadline {
            printError("async-worker-bench: gave up waiting for \(what) after \(limitSeconds) s")
            exit(1)
        }
        sleepMicroseconds(50)
    }
}

// MARK: - The result table

/// How a row's values are printed.
enum Unit {
    case nanoseconds
    case perSecond
    case bytes
    case ratio
    case count
}

/// What a row is held to. Rows without a target are information.
enum Goal {
    case info
    case atMost(Double, String)
    case atLeast(Double, String)

    var text: String {
        switch self {
        case .info: return ""
        case .atMost(_, let text), .atLeast(_, let text): return text
        }
    }

    func verdict(for value: Double) -> String {
        switch self {
        case .info: return ""
        case .atMost(let bound, _): return value <= bound ? "PASS" : "MISS"
        case .atLeast(let bound, _): return value >= bound ? "PASS" : "MISS"
        }
    }
}

/// All rows of the single table printed at the end of the run.
final class Report {
    private enum Row {
        case section(String)
        case values(measure: String, values: [Double], unit: Unit, goal: Goal)
        case note(String)
    }

    private var rows: [Row] = []

    func section(_ title: String) {
        rows.append(.section(title))
    }

    /// One figure per round; the table shows the median and the min–max over rounds.
    func add(_ measure: String, _ values: [Double], _ unit: Unit, _ goal: Goal = .info) {
        rows.append(.values(measure: measure, values: values, unit: unit, goal: goal))
    }

    /// Per-round ratio `numerator[i] / denominator[i]`: both measured in the same round.
    func addRatio(_ measure: String, _ numerator: [Double], over denominator: [Double], _ goal: Goal = .info) {
        let ratios = zip(numerator, denominator).map { $0 / $1 }
        add(measure, ratios, .ratio, goal)
    }

    func note(_ text: String) {
        rows.append(.note(text))
    }

    private static let rowMarker = "BENCHROW"

    /// The rows as lines a parent process can read back with ``absorb(_:)`` (a placement child's output).
    func serialized() -> String {
        rows.map { row -> String in
            switch row {
            case .section(let title):
                return [Self.rowMarker, "section", title].joined(separator: "\t")
            case .note(let text):
                return [Self.rowMarker, "note", text].joined(separator: "\t")
            case .values(let measure, let values, let unit, let goal):
                let (kind, bound, text): (String, Double, String)
                switch goal {
                case .info: (kind, bound, text) = ("info", 0, "")
                case .atMost(let value, let label): (kind, bound, text) = ("atMost", value, label)
                case .atLeast(let value, let label): (kind, bound, text) = ("atLeast", value, label)
                }
                return [
                    Self.rowMarker, "values", measure, "\(unit)", kind, "\(bound)", text,
                    values.map { "\($0)" }.joined(separator: ","),
                ].joined(separator: "\t")
            }
        }.joined(separator: "\n")
    }

    /// Appends the rows serialized by another process's ``serialized()``; other lines are ignored.
    /// Returns how many rows were read.
    @discardableResult
    func absorb(_ output: String) -> Int {
        var count = 0
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.first == Self.rowMarker, fields.count >= 3 else { continue }
            switch fields[1] {
            case "section": section(fields[2])
            case "note": note(fields[2])
            case "values" where fields.count == 8:
                let units: [String: Unit] = [
                    "nanoseconds": .nanoseconds, "perSecond": .perSecond, "bytes": .bytes, "ratio": .ratio,
                    "count": .count,
                ]
                let bound = Double(fields[5]) ?? 0
                let goal: Goal
                switch fields[4] {
                case "atMost": goal = .atMost(bound, fields[6])
                case "atLeast": goal = .atLeast(bound, fields[6])
                default: goal = .info
                }
                let values = fields[7].split(separator: ",").compactMap { Double($0) }
                guard let unit = units[fields[3]], !values.isEmpty else { continue }
                add(fields[2], values, unit, goal)
            default: continue
            }
            count += 1
        }
        return count
    }

    func render() -> String {
        let header = ["measure", "median", "min–max over rounds", "target", "verdict"]
        var lines: [[String]] = []
        var kinds: [Int] = []  // 0 = values, 1 = section, 2 = note
        for row in rows {
            switch row {
            case .section(let title):
                lines.append([title])
                kinds.append(1)
            case .note(let text):
                lines.append([text])
                kinds.append(2)
            case .values(let measure, let values, let unit, let goal):
                let middle = median(values)
                let scale = Scale(for: middle, unit: unit)
                let range =
                    values.count > 1
                    ? scale.text("\(scale.number(values.min()!))–\(scale.number(values.max()!))")
                    : "(1 sample)"
                lines.append([measure, scale.text(scale.number(middle)), range, goal.text, goal.verdict(for: middle)])
                kinds.append(0)
            }
        }
        var widths = header.map(\.count)
        for (line, kind) in zip(lines, kinds) where kind == 0 {
            for (column, cell) in line.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, width - text.count))
            return right ? fill + text : text + fill
        }
        func format(_ cells: [String]) -> String {
            var parts: [String] = []
            for (column, cell) in cells.enumerated() {
                parts.append(pad(cell, widths[column], right: column == 1 || column == 2))
            }
            return "| " + parts.joined(separator: " | ") + " |"
        }
        let ruleWidth = widths.reduce(0, +) + 3 * widths.count + 1
        var output = [format(header), "|" + String(repeating: "-", count: ruleWidth - 2) + "|"]
        for (line, kind) in zip(lines, kinds) {
            switch kind {
            case 0: output.append(format(line))
            case 1: output.append(pad("| == \(line[0]) ==", ruleWidth - 1) + "|")
            default: output.append(pad("|   \(line[0])", ruleWidth - 1) + "|")
            }
        }
        return output.joined(separator: "\n")
    }
}

/// Picks a readable unit for a value and prints others on the same scale.
private struct Scale {
    let divisor: Double
    let suffix: String
    let decimals: Int

    init(for value: Double, unit: Unit) {
        let magnitude = abs(value)
        switch unit {
        case .nanoseconds:
            if magnitude < 1_000 {
                (divisor, suffix, decimals) = (1, "ns", 0)
            } else if magnitude < 1_000_000 {
                (divisor, suffix, decimals) = (1_000, "µs", 2)
            } else if magnitude < 1_000_000_000 {
                (divisor, suffix, decimals) = (1_000_000, "ms", 2)
            } else {
                (divisor, suffix, decimals) = (1_000_000_000, "s", 2)
            }
        case .perSecond:
            if magnitude >= 1_000_000 {
                (divisor, suffix, decimals) = (1_000_000, "M/s", 3)
            } else {
                (divisor, suffix, decimals) = (1_000, "k/s", 1)
            }
        case .bytes:
            if magnitude < 1024 * 1024 {
                (divisor, suffix, decimals) = (1024, "KiB", 2)
            } else if magnitude < 1024 * 1024 * 1024 {
                (divisor, suffix, decimals) = (1024 * 1024, "MiB", 1)
            } else {
                (divisor, suffix, decimals) = (1024 * 1024 * 1024, "GiB", 2)
            }
        case .ratio:
            (divisor, suffix, decimals) = (1, "×", 2)
        case .count:
            (divisor, suffix, decimals) = (1, "", 0)
        }
    }

    /// Appends the unit to an already formatted number or range.
    func text(_ numbers: String) -> String {
        switch suffix {
        case "": return numbers
        case "×": return numbers + "×"
        default: return numbers + " " + suffix
        }
    }

    func number(_ value: Double) -> String {
        String(format: "%.\(decimals)f", value / divisor)
    }
}

// MARK: - The machine

/// What the table was measured on.
func machineDescription() -> [String] {
    let info = ProcessInfo.processInfo
    var cpuModel = "unknown CPU"
    if let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
        let colon = line.firstIndex(of: ":")
    {
        cpuModel = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return [
        "machine: \(info.activeProcessorCount) active cores (\(info.processorCount) configured), \(cpuModel)",
        "os: \(info.operatingSystemVersionString), kernel \(kernelRelease())",
        "swift: \(swiftCompilerVersion) (checked with #if compiler), release build: \(isOptimizedBuild)",
    ]
}

private func kernelRelease() -> String {
    var names = utsname()
    guard uname(&names) == 0 else { return "unknown" }
    return withUnsafeBytes(of: &names.release) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

private var swiftCompilerVersion: String {
    #if compiler(>=6.4)
    return "6.4 or later"
    #elseif compiler(>=6.3.1)
    return "6.3.1"
    #elseif compiler(>=6.3)
    return "6.3"
    #else
    return "older than 6.3"
    #endif
}

private var isOptimizedBuild: Bool {
    #if DEBUG
    return false
    #else
    return true
    #endif
}

/// The 1, 5 and 15 minute load averages: a hint of how busy the shared machine was.
func loadAverage() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}
