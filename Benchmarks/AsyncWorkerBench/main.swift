// async-worker-bench: AsyncWorker side by side with baselines implemented in this executable, measured
// in the same process and interleaved round by round. The machine may be noisy: compare only the ratios
// of one run, never figures across runs.
//
//     swift run -c release async-worker-bench                  # full run (< 5 minutes)
//     swift run -c release async-worker-bench --quick          # smoke mode for CI (< 20 s)
//     swift run -c release async-worker-bench --scenario NAME  # one scenario
//
// Every figure printed is measured in this run; the targets are the library's goals.

import Foundation

/// A named scenario; `--scenario` selects one by name.
struct Scenario {
    let name: String
    let run: (BenchConfig, Report) throws -> Void
}

let scenarios = [
    Scenario(name: "roundtrip", run: runRoundTripScenario),
    Scenario(name: "fireforget", run: runFireAndForgetScenario),
    Scenario(name: "suspended", run: runSuspendedScenario),
    Scenario(name: "producer", run: runProducerScenario),
    Scenario(name: "timeout", run: runTimeoutScenario),
    Scenario(name: "coldstart", run: runColdStartScenario),
    Scenario(name: "pipeline", run: runPipelineScenario),
    Scenario(name: "monitoring", run: runMonitoringScenario),
    Scenario(name: "hotpath", run: runHotPathScenario),
    Scenario(name: "probe", run: runProbeScenario),
    Scenario(name: "timer", run: runTimerScenario),
    Scenario(name: "starved-timer", run: runStarvedTimerScenario),
]

// `.ci/cost-check`'s workload (see CostDriver.swift): `--cost KIND --count N`, nothing printed.
if let costIndex = CommandLine.arguments.firstIndex(of: "--cost") {
    let arguments = CommandLine.arguments
    guard costIndex + 1 < arguments.count, let kind = CostKind(rawValue: arguments[costIndex + 1]),
        let countIndex = arguments.firstIndex(of: "--count"), countIndex + 1 < arguments.count,
        let count = Int(arguments[countIndex + 1]), count >= 0
    else {
        printError(
            "usage: async-worker-bench --cost \(CostKind.allCases.map(\.rawValue).joined(separator: "|")) --count N"
        )
        exit(2)
    }
    do {
        try runCostWorkload(kind, count: count)
    } catch {
        printError("async-worker-bench: the cost workload failed: \(error)")
        exit(1)
    }
    exit(0)
}

let config = BenchConfig.parse(CommandLine.arguments, scenarioNames: scenarios.map(\.name))

// A placement child (see PlacementScenarios.swift) runs one scenario and hands its rows to the parent.
if config.placementChild != nil {
    guard let name = config.onlyScenario, ["roundtrip", "fireforget"].contains(name) else {
        printError("async-worker-bench: --placement needs --scenario roundtrip or fireforget")
        exit(2)
    }
    let childReport = Report()
    do {
        try scenarios.first { $0.name == name }!.run(config, childReport)
    } catch {
        printError("async-worker-bench: the placement child failed: \(error)")
        exit(1)
    }
    print(childReport.serialized())
    exit(0)
}

print("AsyncWorker benchmark (async-worker-bench)")
for line in machineDescription() { print(line) }
print("mode: \(config.modeName); \(config.rounds) rounds, contenders interleaved within each round")
print(
    "counts: round trip \(config.placementRoundTripCalls) calls and fire-and-forget "
        + "\(config.placementFireAndForgetTasks) tasks per placement, hot path \(config.roundTripCalls) calls, "
        + "suspended \(config.suspendedTasks) tasks, producer \(config.producerTasks) tasks, "
        + "timeout \(config.timeoutTries) tries, cold start \(config.coldStarts) starts (per contender per round)"
)
print("load average at start: \(loadAverage())")

let benchStart = monotonicNanoseconds()
let report = Report()
do {
    for scenario in scenarios
    where config.onlyScenario == scenario.name || (config.onlyScenario == nil && scenario.name != "probe") {
        let scenarioStart = monotonicNanoseconds()
        progress("scenario \(scenario.name)")
        try scenario.run(config, report)
        progress(
            "scenario \(scenario.name) took "
                + String(format: "%.1f s", Double(monotonicNanoseconds() - scenarioStart) / 1e9)
        )
    }
} catch {
    printError("async-worker-bench: a scenario failed: \(error)")
    exit(1)
}
let benchSeconds = Double(monotonicNanoseconds() - benchStart) / 1e9

print("")
print(report.render())
print("")
print(
    """
    Ratios are taken per round (both sides measured in the same round); the table shows their median and
    min–max over rounds. Baselines, all implemented in this executable:
      semaphore ping-pong  two plain threads handing a token back and forth over DispatchSemaphore: two
                           kernel wake-ups per round trip, no allocation (the wake-up floor).
      naive bridge         Task.detached { …; semaphore.signal() }; semaphore.wait(), one of each per call.
      task floor           Task(executorPreference: InlineTaskExecutor()) { … } from synchronous code; the
                           executor runs the job inside enqueue, so the task is created, run, completed and
                           released on the calling thread with no hop: the runtime's own cost per task.
      global pool          the same work on Swift's global concurrent executor (Task.detached).
    """
)
print("load average at end: \(loadAverage())")
print(String(format: "total time: %.1f s", benchSeconds))
