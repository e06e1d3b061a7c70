// Soak: a mixed load for N minutes, printing resident memory and thread count over time.
//
//     swift run -c release async-worker-soak --minutes 10 [--interval 30]
//
// Not part of CI. Each sample line: elapsed, operations so far (blocking, timeouts, fire-and-forget,
// cancels, errors, workers started and stopped; pipeline messages, blocking iteration, batches and the
// reverse bridge), resident memory and the process's thread count.
// Both must stay flat; the final line compares the second half of the run with the first.

import AsyncWorker
import Dispatch
import Foundation
import Synchronization

struct Options {
    var minutes = 1.0
    var interval = 10.0
    init() {
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--minutes": minutes = Double(arguments.next() ?? "") ?? minutes
            case "--interval": interval = Double(arguments.next() ?? "") ?? interval
            default: print("unknown argument \(argument)")
            }
        }
    }
}

final class Tally: Sendable {
    let blocking = Atomic<Int>(0)
    let timeouts = Atomic<Int>(0)
    let futures = Atomic<Int>(0)
    let cancels = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let workers = Atomic<Int>(0)
    let bridges = Atomic<Int>(0)
    let wrong = Atomic<Int>(0)
    var total: Int {
        blocking.load(ordering: .relaxed) + timeouts.load(ordering: .relaxed) + futures.load(ordering: .relaxed)
            + cancels.load(ordering: .relaxed) + errors.load(ordering: .relaxed) + workers.load(ordering: .relaxed)
            + bridges.load(ordering: .relaxed)
    }

    /// Counts `count` bridge operations if `isRight`, else one wrong outcome.
    func bridge(_ count: Int, _ isRight: Bool) {
        if isRight {
            bridges.add(count, ordering: .relaxed)
        } else {
            wrong.add(1, ordering: .relaxed)
        }
    }
}

func residentKiB() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }
    return -1
}

func threadCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
}

struct Boom: Error {}

struct AddOne: AsyncDomain {
    func execute(_ value: Int) async throws -> Int { value + 1 }
}

/// One of the bridges beyond the blocking call, chosen by `round`: the pipeline (`send`, then 16
/// `post`s), blocking iteration with a timeout, a batch, and the reverse bridge inside a blocking call.
func bridgeRound(_ round: Int) {
    switch round / 6 % 4 {
    case 0:
        let sent = try? pipeline.send(round, timeout: .seconds(30))
        let posted = (0..<16).map { pipeline.post($0) }
        let sum = posted.reduce(0) { $0 + ((try? $1.result(timeout: .seconds(30))) ?? -1_000) }
        tally.bridge(17, sent == round + 2 && sum == (0..<16).reduce(0) { $0 + $1 + 2 })
    case 1:
        let stream = AsyncStream<Int> { continuation in
            for value in 0..<32 { continuation.yield(value) }
            continuation.finish()
        }
        var sum = 0
        var isRight = true
        do {
            var iterator = try stream.makeBlockingIterator(prefetch: 4, on: worker)
            while let value = try iterator.next(timeout: .seconds(30)) { sum += value }
        } catch {
            isRight = false
        }
        tally.bridge(32, isRight && sum == 32 * 31 / 2)
    case 2:
        let doubled = try? dispatcher.executeBatch(Array(0..<16), maxConcurrency: 4) { $0 * 2 }
        tally.bridge(16, doubled == (0..<16).map { $0 * 2 })
    default:
        let value = try? dispatcher.execute({ try await runSyncTask { round } }, timeout: .seconds(30))
        tally.bridge(1, value == round)
    }
}

let options = Options()
let tally = Tally()
let stop = Atomic<Bool>(false)
let worker = ThreadWorker(name: "soak")
let dispatcher = TaskDispatcher(worker: worker)
let pipeline = Pipeline(AddOne(), worker: worker, maxInFlight: 8).then(AddOne())
let callers = 4
let finished = DispatchSemaphore(value: 0)

for caller in 0..<callers {
    Thread {
        var round = 0
        while !stop.load(ordering: .relaxed) {
            round += 1
            let expected = round
            switch round % 6 {
            case 0:
                if (try? dispatcher.execute({ expected }, timeout: .seconds(30))) == expected {
                    tally.blocking.add(1, ordering: .relaxed)
                } else {
                    tally.wrong.add(1, ordering: .relaxed)
                }
            case 1:
                do {
                    _ = try dispatcher.execute({ try await Task.sleep(for: .seconds(10)) }, timeout: .microseconds(200))
                    tally.wrong.add(1, ordering: .relaxed)
                } catch {
                    tally.timeouts.add(1, ordering: .relaxed)
                }
            case 2:
                let batch = (0..<64).map { index in dispatcher.executeAsync { index } }
                let sum = batch.reduce(0) { $0 + ((try? $1.result(timeout: .seconds(30))) ?? -1_000) }
                tally.futures.add(batch.count, ordering: .relaxed)
                if sum != 64 * 63 / 2 { tally.wrong.add(1, ordering: .relaxed) }
            case 3:
                let future = dispatcher.executeAsync { try await Task.sleep(for: .seconds(10)) }
                future.cancel()
                if (try? future.result(timeout: .seconds(30))) == nil { tally.cancels.add(1, ordering: .relaxed) }
            case 4:
                if (try? dispatcher.execute { () throws -> Int in throw Boom() }) == nil {
                    tally.errors.add(1, ordering: .relaxed)
                }
            default:
                if caller != 0 {
                    bridgeRound(round)
                } else if round % 60 == 5 {
                    // A short-lived worker: started, used, shut down with work pending.
                    let shortLived = ThreadWorker(name: "soak-short")
                    let pending = shortLived.submit { try await Task.sleep(for: .seconds(10)) }
                    _ = try? TaskDispatcher(worker: shortLived).execute { 1 }
                    shortLived.shutdown(timeout: .milliseconds(1))
                    if pending.isDone {
                        tally.workers.add(1, ordering: .relaxed)
                    } else {
                        tally.wrong.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        finished.signal()
    }.start()
}

let start = ContinuousClock.now
let total = Duration.seconds(options.minutes * 60)
var samples: [(seconds: Double, rss: Int, threads: Int)] = []
print("soak: \(callers) callers, \(options.minutes) min, sample every \(options.interval) s")
print("elapsed_s  operations  wrong  rss_kib  threads")
while ContinuousClock.now - start < total {
    Thread.sleep(forTimeInterval: options.interval)  // sampling period of a monitor, not synchronisation
    let seconds = Double((ContinuousClock.now - start).components.seconds)
    let sample = (seconds: seconds, rss: residentKiB(), threads: threadCount())
    samples.append(sample)
    let line = String(
        format: "%9.0f  %10d  %5d  %7d  %7d",
        seconds,
        tally.total,
        tally.wrong.load(ordering: .relaxed),
        sample.rss,
        sample.threads
    )
    print(line)
}
stop.store(true, ordering: .relaxed)
for _ in 0..<callers { finished.wait() }
let pipelineReport = pipeline.shutdown(timeout: .seconds(5))
let report = worker.shutdown(timeout: .seconds(5))
let half = samples.count / 2
if half > 0 {
    let firstMax = samples[..<half].map(\.rss).max() ?? 0
    let secondMax = samples[half...].map(\.rss).max() ?? 0
    let threadsFirst = samples[..<half].map(\.threads).max() ?? 0
    let threadsSecond = samples[half...].map(\.threads).max() ?? 0
    print(
        "rss max first half \(firstMax) KiB, second half \(secondMax) KiB; "
            + "threads max \(threadsFirst) then \(threadsSecond)"
    )
}
print(
    "operations \(tally.total) (bridges \(tally.bridges.load(ordering: .relaxed))), "
        + "wrong \(tally.wrong.load(ordering: .relaxed)), pipeline shutdown: \(pipelineReport), shutdown: \(report)"
)
