// Start async work, keep doing synchronous work, collect the results later.
//
//     swift run fire-and-forget

import AsyncWorker
import Foundation

struct Report: Sendable {
    let name: String
    let bytes: Int
}

func download(_ name: String, size: Int) async throws -> Report {
    try await Task.sleep(for: .milliseconds(10 * (size % 7 + 1)))
    return Report(name: name, bytes: size * 1_024)
}

// Fire: each call returns a TaskFuture at once.
let names = ["january", "february", "march", "april", "may"]
let futures = names.enumerated().map { index, name in
    runAsyncTask(fireAndForget: { try await download(name, size: 40 + index * 13) })
}
// Observe: a handler runs exactly once, when its future resolves (on the worker's thread: keep it short).
for future in futures {
    future.onComplete { result in
        if case .success(let report) = result { print("  done: \(report.name)") }
    }
}

// Meanwhile, synchronous work goes on.
let checksum = (1...1_000_000).reduce(0, &+)
print("synchronous work finished (checksum \(checksum))")

// Collect: block until each is done, with a timeout; any thread may do this, any number of times.
var total = 0
for future in futures {
    let report = try future.result(timeout: .seconds(5))
    total += report.bytes
}
print("collected \(futures.count) reports, \(total / 1_024) KiB in all")

// A timeout on result() does not stop the task: ask again later.
let slow = runAsyncTask(fireAndForget: { () async throws -> String in
    try await Task.sleep(for: .milliseconds(200))
    return "slow report"
})
do {
    _ = try slow.result(timeout: .milliseconds(10))
} catch AsyncWorkerError.timedOut {
    print("not ready after 10 ms (isDone: \(slow.isDone)); waiting longer…")
}
print("got: \(try slow.result(timeout: .seconds(5)))")
