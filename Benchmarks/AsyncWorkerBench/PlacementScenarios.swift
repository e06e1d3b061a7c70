// The round trip and fire-and-forget scenarios in every placement (see ``Placement``): free, the whole
// process on one CPU (a child process started confined to one CPU, as in a 1-CPU container), and the
// caller and the worker on different CPUs. In each placement and round the naive bridge and the task
// floor are measured next to AsyncWorker, and the ratios are taken per round.

import AsyncWorker
import Dispatch
import Foundation

// MARK: - Running a placement

/// Runs `measure` in every placement, in this order: free, split (both in this process), one CPU (in a
/// child process). In a placement child, runs only the child's placement.
func forEachPlacement(
    scenario: String,
    _ config: BenchConfig,
    _ report: Report,
    _ measure: (Placement) throws -> Void
) throws {
    if let placement = config.placementChild {
        try measure(placement)
        return
    }
    for placement in [Placement.free, .split, .oneCPU] {
        guard placement.isAvailable else {
            report.note("\(placement.title): not available on this machine (needs 2 CPUs)")
            continue
        }
        if placement == .oneCPU {
            try runPlacementChild(scenario: scenario, placement: placement, config, report)
        } else {
            try measure(placement)
        }
    }
    Placement.free.arrange()
}

/// Runs this executable again for one scenario in `placement`, confined to the first CPU this process
/// may use before the child starts (the affinity of the spawning thread is inherited by every thread
/// of the child), and adds the child's rows to `report`.
private func runPlacementChild(scenario: String, placement: Placement, _ config: BenchConfig, _ report: Report) throws {
    progress("\(scenario): starting a child process for placement \(placement.rawValue)")
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
    var arguments = ["--scenario", scenario, "--placement", placement.rawValue, "--rounds", "\(config.rounds)"]
    if config.isQuick { arguments.insert("--quick", at: 0) }
    child.arguments = arguments
    let output = Pipe()
    child.standardOutput = output
    let cpus = Placement.startCPUs
    CPUSet([cpus.cpus[0]]).apply()
    defer { cpus.apply() }
    try child.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    child.waitUntilExit()
    guard child.terminationStatus == 0 else {
        throw BenchError.childFailed("placement \(placement.rawValue) child exited with \(child.terminationStatus)")
    }
    let rows = report.absorb(String(decoding: data, as: UTF8.self))
    guard rows > 0 else { throw BenchError.childFailed("placement \(placement.rawValue) child printed no rows") }
}

enum BenchError: Error {
    case childFailed(String)
}

/// Called first thing in a placement child: makes sure the whole process runs on one CPU, and says
/// what it found (the parent's spawn already confined it; this catches a spawn path that did not).
func confineChildProcess(_ placement: Placement) -> String {
    let threadsAtStart = processThreadIDs().count
    let inherited = CPUSet.affinity()
    if placement == .oneCPU, inherited.cpus.count != 1, let first = inherited.cpus.first {
        for tid in processThreadIDs() { CPUSet([first]).apply(to: tid) }
    }
    return "child process: CPUs allowed at start \(inherited), now \(CPUSet.affinity()); "
        + "threads at start \(threadsAtStart)"
}

// MARK: - Blocking round trip

/// Per-round figures, each contender measured in the same round and placement.
private func measureRoundTrip(
    _ sampler: LatencySampler,
    calls: Int,
    _ placement: Placement,
    _ body: () throws -> Void
) rethrows -> RunLatency {
    placement.arrange()
    let cpuBefore = processCPUNanoseconds()
    var run = try sampler.measure(calls: calls, body)
    run.cpuPerCall = Double(processCPUNanoseconds() - cpuBefore) / Double(calls)
    return run
}

func runRoundTripScenario(_ config: BenchConfig, _ report: Report) throws {
    let calls = config.placementRoundTripCalls
    // The very first call in the process also starts the shared worker's thread.
    let firstStart = monotonicNanoseconds()
    _ = try runAsyncTask { 1 }
    let firstCall = Double(monotonicNanoseconds() - firstStart)
    if let placement = config.placementChild { report.note(confineChildProcess(placement)) }

    try forEachPlacement(scenario: "roundtrip", config, report) { placement in
        report.section("blocking round trip, \(placement.title): \(calls) calls per contender per round")
        try roundTrip(in: placement, calls: calls, config, report)
    }
    if config.placementChild == nil {
        report.section("blocking round trip: the first call")
        report.add("AsyncWorker first call in the process (starts its thread)", [firstCall], .nanoseconds)
    }
}

private func roundTrip(in placement: Placement, calls: Int, _ config: BenchConfig, _ report: Report) throws {
    let sampler = LatencySampler(capacity: calls)
    let inlineExecutor = InlineTaskExecutor()
    // The opt-in mode: a blocking caller runs its task's first job itself while the worker is idle.
    let callerRunsWorker = ThreadWorker(name: "bench-caller-runs", callerRunsWhenIdle: true)
    defer { callerRunsWorker.shutdown(timeout: .seconds(5)) }
    let callerRuns = TaskDispatcher(worker: callerRunsWorker)
    let inlineRuns = AtomicCounter()
    // The ping-pong (two kernel wake-ups) only where it is cheap to show: on a slow-waking VM it takes
    // 40-50 µs per round trip.
    let pingPong = placement == .free ? SemaphorePingPong() : nil
    let partner = pingPong?.start()

    // Warm-up in this placement: code paths, allocator caches, the pool's threads, what the hand-off
    // learns about the placement.
    let warmUp = max(1, calls / 10)
    placement.arrange()
    _ = sampler.measure(calls: warmUp) { _ = naiveBridge { 1 } }
    _ = sampler.measure(calls: warmUp) { runInlineTask(on: inlineExecutor, counting: inlineRuns) }
    _ = try sampler.measure(calls: warmUp) { _ = try runAsyncTask { 1 } }
    _ = try sampler.measure(calls: warmUp) { _ = try callerRuns.execute { 1 } }

    var pingPongRuns: [RunLatency] = []
    var naiveRuns: [RunLatency] = []
    var floorRuns: [RunLatency] = []
    var workerRuns: [RunLatency] = []
    var callerRunsRuns: [RunLatency] = []
    for round in 1...config.rounds {
        progress("round trip, \(placement.rawValue): round \(round)/\(config.rounds)")
        if let pingPong {
            pingPongRuns.append(measureRoundTrip(sampler, calls: calls, placement) { pingPong.roundTrip() })
        }
        naiveRuns.append(measureRoundTrip(sampler, calls: calls, placement) { _ = naiveBridge { 1 } })
        floorRuns.append(
            measureRoundTrip(sampler, calls: calls, placement) {
                runInlineTask(on: inlineExecutor, counting: inlineRuns)
            }
        )
        workerRuns.append(try measureRoundTrip(sampler, calls: calls, placement) { _ = try runAsyncTask { 1 } })
        callerRunsRuns.append(
            try measureRoundTrip(sampler, calls: calls, placement) { _ = try callerRuns.execute { 1 } }
        )
    }
    let idle = try idleWorkerCPU(config, placement)
    if let pingPong, let partner { pingPong.stop(partner) }
    precondition(inlineRuns.current == warmUp + calls * config.rounds, "an inline task did not run")

    var contenders: [(String, [RunLatency])] = []
    if !pingPongRuns.isEmpty { contenders.append(("semaphore ping-pong, 2 threads", pingPongRuns)) }
    contenders += [
        ("naive bridge (Task.detached + semaphore)", naiveRuns),
        ("task floor (inline executor, no hop)", floorRuns),
        ("AsyncWorker runAsyncTask { 1 }", workerRuns),
        ("AsyncWorker, callerRunsWhenIdle: execute { 1 }", callerRunsRuns),
    ]
    for (name, runs) in contenders {
        report.add("\(name): p50", runs.map(\.p50), .nanoseconds)
        report.add("\(name): p90", runs.map(\.p90), .nanoseconds)
        report.add("\(name): p99", runs.map(\.p99), .nanoseconds)
        report.add("\(name): mean", runs.map(\.mean), .nanoseconds)
        report.add("\(name): CPU time per call (process)", runs.map(\.cpuPerCall), .nanoseconds)
    }
    let isFree = placement == .free
    let latencyGoal: Goal = isFree ? .atMost(0.8, "≤ 0.80×") : .atMost(1.0, "≤ 1.00×")
    report.addRatio("AsyncWorker / naive: p50", workerRuns.map(\.p50), over: naiveRuns.map(\.p50), latencyGoal)
    report.addRatio("AsyncWorker / naive: p90", workerRuns.map(\.p90), over: naiveRuns.map(\.p90))
    report.addRatio(
        "AsyncWorker / naive: p99",
        workerRuns.map(\.p99),
        over: naiveRuns.map(\.p99),
        .atMost(1.0, "≤ 1.00×")
    )
    report.addRatio("AsyncWorker / naive: mean", workerRuns.map(\.mean), over: naiveRuns.map(\.mean), latencyGoal)
    report.addRatio(
        "AsyncWorker / naive: CPU time per call",
        workerRuns.map(\.cpuPerCall),
        over: naiveRuns.map(\.cpuPerCall),
        .atMost(1.5, "≤ 1.50×")
    )
    report.addRatio("AsyncWorker / task floor: p50", workerRuns.map(\.p50), over: floorRuns.map(\.p50))
    report.addRatio("AsyncWorker / task floor: mean", workerRuns.map(\.mean), over: floorRuns.map(\.mean))
    // The opt-in mode, for information (the goals judge the default, strict-affinity worker).
    report.addRatio("callerRunsWhenIdle / naive: p50", callerRunsRuns.map(\.p50), over: naiveRuns.map(\.p50))
    report.addRatio("callerRunsWhenIdle / naive: p99", callerRunsRuns.map(\.p99), over: naiveRuns.map(\.p99))
    report.addRatio("callerRunsWhenIdle / task floor: p50", callerRunsRuns.map(\.p50), over: floorRuns.map(\.p50))
    // The spread is one figure per run (max over min of the rounds' p50), shown as a one-sample row.
    for (name, runs) in [
        ("naive bridge", naiveRuns), ("AsyncWorker", workerRuns), ("callerRunsWhenIdle", callerRunsRuns),
    ] {
        let p50s = runs.map(\.p50)
        report.add(
            "\(name): spread of p50 over rounds (max / min)",
            [p50s.max()! / p50s.min()!],
            .ratio,
            name == "AsyncWorker" ? .atMost(1.5, "≤ 1.50×") : .info
        )
    }
    report.add(
        "AsyncWorker idle worker: its thread's CPU time per second (from its last call)",
        [idle.idle],
        .nanoseconds,
        .atMost(1_000_000, "< 1 ms")
    )
    report.add("one call per ms, AsyncWorker: process CPU time per second", [idle.sparseWorker], .nanoseconds)
    report.add("one call per ms, naive bridge: process CPU time per second", [idle.sparseNaive], .nanoseconds)
}

/// CPU time per second of wall time: of the shared worker's thread while idle (measured from just after
/// a call, so the poll phase that follows every job is included), and of the whole process while one
/// call per millisecond goes through AsyncWorker or the naive bridge.
private func idleWorkerCPU(
    _ config: BenchConfig,
    _ placement: Placement
) throws -> (idle: Double, sparseWorker: Double, sparseNaive: Double) {
    let window = UInt64(config.idleSampleMilliseconds) * 1_000_000
    placement.arrange()
    let workerTID = try runAsyncTask { currentThreadID() }
    let cpuBefore = threadCPUNanoseconds(workerTID)
    let start = monotonicNanoseconds()
    usleep(UInt32(config.idleSampleMilliseconds) * 1000)
    let idle = Double(threadCPUNanoseconds(workerTID) - cpuBefore) * 1e9 / Double(monotonicNanoseconds() - start)

    func sparse(_ call: () throws -> Void) rethrows -> Double {
        placement.arrange()
        let processBefore = processCPUNanoseconds()
        let begin = monotonicNanoseconds()
        while monotonicNanoseconds() - begin < window {
            try call()
            usleep(1000)
        }
        return Double(processCPUNanoseconds() - processBefore) * 1e9 / Double(monotonicNanoseconds() - begin)
    }
    let sparseWorker = try sparse { _ = try runAsyncTask { 1 } }
    let sparseNaive = sparse { _ = naiveBridge { 1 } }
    return (idle, sparseWorker, sparseNaive)
}

// MARK: - Fire-and-forget throughput

func runFireAndForgetScenario(_ config: BenchConfig, _ report: Report) throws {
    let tasks = config.placementFireAndForgetTasks
    if let placement = config.placementChild { report.note(confineChildProcess(placement)) }
    try forEachPlacement(scenario: "fireforget", config, report) { placement in
        report.section("fire-and-forget, \(placement.title): \(tasks) trivial tasks per contender per round")
        try fireAndForget(in: placement, tasks: tasks, config, report)
    }
}

private func fireAndForget(in placement: Placement, tasks: Int, _ config: BenchConfig, _ report: Report) throws {
    let inlineExecutor = InlineTaskExecutor()
    // More callers only with free placement: in the others they would share the caller's CPU.
    let callerCounts = placement == .free ? [1, 2, 8] : [1]

    placement.arrange()
    _ = naiveFireAndForget(tasks: tasks / 10)
    _ = inlineTaskRate(tasks: tasks / 10, executor: inlineExecutor)
    _ = try asyncWorkerFireAndForget(tasks: tasks / 10, callers: 1)

    var naive: [Throughput] = []
    var floor: [Double] = []
    var worker: [Int: [Throughput]] = [:]
    for round in 1...config.rounds {
        progress("fire-and-forget, \(placement.rawValue): round \(round)/\(config.rounds)")
        placement.arrange()
        naive.append(naiveFireAndForget(tasks: tasks))
        placement.arrange()
        floor.append(inlineTaskRate(tasks: tasks, executor: inlineExecutor))
        for callers in callerCounts {
            placement.arrange()
            worker[callers, default: []].append(try asyncWorkerFireAndForget(tasks: tasks, callers: callers))
        }
    }

    report.add("naive Task.detached, 1 caller: completions/s", naive.map(\.completions), .perSecond)
    report.add("naive Task.detached, 1 caller: CPU time per task (process)", naive.map(\.cpuPerTask), .nanoseconds)
    report.add("task floor (inline executor, no hop), 1 caller: tasks/s", floor, .perSecond)
    for callers in callerCounts {
        let runs = worker[callers]!
        let label = "AsyncWorker, \(callers) caller\(callers == 1 ? "" : "s")"
        report.add("\(label): submissions/s", runs.map(\.submissions), .perSecond)
        report.add("\(label): completions/s", runs.map(\.completions), .perSecond)
        if callers == 1 { report.add("\(label): CPU time per task (process)", runs.map(\.cpuPerTask), .nanoseconds) }
    }
    let single = worker[1]!.map(\.completions)
    report.addRatio(
        "AsyncWorker 1 caller / naive (completions)",
        single,
        over: naive.map(\.completions),
        placement == .free ? .atLeast(1.5, "≥ 1.50×") : .atLeast(1.2, "≥ 1.20×")
    )
    report.addRatio(
        "AsyncWorker / naive: CPU time per task",
        worker[1]!.map(\.cpuPerTask),
        over: naive.map(\.cpuPerTask)
    )
    report.addRatio("AsyncWorker 1 caller / task floor", single, over: floor)
    if placement == .free {
        report.addRatio("AsyncWorker 2 callers / 1 caller (completions)", worker[2]!.map(\.completions), over: single)
        report.addRatio(
            "AsyncWorker 8 callers / 1 caller (completions)",
            worker[8]!.map(\.completions),
            over: single,
            .atLeast(0.8, "≥ 0.80×")
        )
    }
}
