// Cancel running work, and shut a worker down cleanly even when a task misbehaves.
//
//     swift run cancel-demo

import AsyncWorker
import Foundation

let worker = ThreadWorker(name: "cancel-demo")
let dispatcher = TaskDispatcher(worker: worker)

// 1. A cooperative task: cancel() stops it, and the future reports CancellationError.
let crawl = dispatcher.executeAsync { () async throws -> Int in
    var pages = 0
    while true {
        try await Task.sleep(for: .milliseconds(5))  // throws CancellationError once cancelled
        pages += 1
    }
    return pages
}
Thread.sleep(forTimeInterval: 0.05)  // let it crawl a little (demo pacing, not synchronisation)
crawl.cancel()
do {
    _ = try crawl.result(timeout: .seconds(5))
} catch is CancellationError {
    print("crawl: cancelled")
}

// 2. A task that catches cancellation and returns what it has: cancel() delivers that value.
let partial = dispatcher.executeAsync { () async -> [Int] in
    var found: [Int] = []
    for candidate in 2... {
        if Task.isCancelled { break }
        if (2..<candidate).allSatisfy({ candidate % $0 != 0 }) { found.append(candidate) }
        await Task.yield()
    }
    return found
}
Thread.sleep(forTimeInterval: 0.05)
partial.cancel()
let primes = try partial.result(timeout: .seconds(5))
print("primes: stopped politely with \(primes.count) found (last \(primes.last ?? 0))")

// 3. Cancelling a finished future changes nothing.
let done = dispatcher.executeAsync { 42 }
print("finished: \(try done.result(timeout: .seconds(5)))")
done.cancel()
print("after cancel: \(try done.result(timeout: .zero))")

// 4. Shutdown with a task that ignores cancellation and holds the thread: shutdown still returns,
//    resolves the future with .shutDown, and its report says the thread is busy.
let release = DispatchSemaphore(value: 0)
let stubborn = dispatcher.executeAsync { () -> String in
    release.wait()  // a blocking call inside async code: the kind of thing never to do
    return "finally"
}
let report = worker.shutdown(timeout: .milliseconds(100))
print(report)
do {
    _ = try stubborn.result(timeout: .zero)
} catch AsyncWorkerError.shutDown {
    print("stubborn task's future: resolved with .shutDown")
}
release.signal()
print("new work after shutdown: ", terminator: "")
do {
    _ = try dispatcher.execute { 1 }
} catch {
    print(error)
}
