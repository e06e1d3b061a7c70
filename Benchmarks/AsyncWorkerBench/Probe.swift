// The diagnosis probe (`--scenario probe`): round trips of the shared worker with, per call, its latency
// and whether caller and worker ran on the same CPU; per round, the context switches each side made
// per call. Used to find why round trips fall into a slow mode; not part of the default run.

import AsyncWorker
import Foundation

func runProbeScenario(_ config: BenchConfig, _ report: Report) throws {
    let calls = config.roundTripCalls
    report.section("probe: \(calls) runAsyncTask round trips per round, latency by co-location")
    let workerTID = try runAsyncTask { currentThreadID() }
    let callerTID = currentThreadID()
    let bounds: [UInt64] = [2_000, 4_000, 8_000, 16_000, 32_000, 64_000, UInt64.max]
    var latencies = [UInt64](repeating: 0, count: calls)
    var sameCPU = [Bool](repeating: false, count: calls)
    for placement in [Placement.free, .split] where placement.isAvailable {
        for round in 1...config.rounds {
            placement.arrange()
            let callerBefore = threadContextSwitches(callerTID)
            let workerBefore = threadContextSwitches(workerTID)
            let cpuBefore = processCPUNanoseconds()
            let callerCPUBefore = threadCPUNanoseconds(callerTID)
            let workerCPUBefore = threadCPUNanoseconds(workerTID)
            let wallBefore = monotonicNanoseconds()
            for index in 0..<calls {
                let callerCPU = currentCPU()
                let start = monotonicNanoseconds()
                let workerCPU = try runAsyncTask { currentCPU() }
                latencies[index] = monotonicNanoseconds() - start
                sameCPU[index] = callerCPU == workerCPU
            }
            let wall = Double(monotonicNanoseconds() - wallBefore)
            let cpu = Double(processCPUNanoseconds() - cpuBefore)
            let callerCPUTime = Double(threadCPUNanoseconds(callerTID) - callerCPUBefore)
            let workerCPUTime = Double(threadCPUNanoseconds(workerTID) - workerCPUBefore)
            let callerAfter = threadContextSwitches(callerTID)
            let workerAfter = threadContextSwitches(workerTID)
            var line = "\(placement.rawValue) round \(round):"
            for same in [true, false] {
                let picked = zip(latencies, sameCPU).filter { $0.1 == same }.map(\.0).sorted()
                guard !picked.isEmpty else { continue }
                var counts = [Int](repeating: 0, count: bounds.count)
                for value in picked { counts[bounds.firstIndex { value < $0 }!] += 1 }
                let shares = counts.map { String(format: "%4.1f", 100 * Double($0) / Double(picked.count)) }
                line += String(
                    format: " | %@ CPU %5.1f%% p50 %5.2f µs [<2 <4 <8 <16 <32 <64 ≥64 µs: %@ %%]",
                    same ? "same" : "diff",
                    100 * Double(picked.count) / Double(calls),
                    Double(picked[picked.count / 2]) / 1e3,
                    shares.joined(separator: " ")
                )
            }
            line += String(
                format:
                    " | per call: caller vcs %.2f ivcs %.2f, worker vcs %.2f ivcs %.2f; CPU/wall %.2f (caller %.2f, worker %.2f)",
                Double(callerAfter.voluntary - callerBefore.voluntary) / Double(calls),
                Double(callerAfter.involuntary - callerBefore.involuntary) / Double(calls),
                Double(workerAfter.voluntary - workerBefore.voluntary) / Double(calls),
                Double(workerAfter.involuntary - workerBefore.involuntary) / Double(calls),
                cpu / wall,
                callerCPUTime / wall,
                workerCPUTime / wall
            )
            print(line)
        }
    }
    Placement.free.arrange()
}
