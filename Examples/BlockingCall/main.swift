import AsyncWorker
import Foundation

func threadName() -> String { Thread.current.name ?? "?" }
enum Trace { @TaskLocal static var id = "none" }
let v = try Trace.$id.withValue("abc") { try runAsyncTask { () async throws -> String in
    try await Task.sleep(for: .milliseconds(10))
    return "\(threadName()) \(Trace.id)"
}
}
print(v)
let clock = ContinuousClock()
let t0 = clock.now
do {
    _ = try runAsyncTask({ try await Task.sleep(for: .seconds(5)); return 1 }, timeout: .milliseconds(50))
} catch { print(error, clock.now - t0) }
let f = runAsyncTask(fireAndForget: { 41 + 1 })
print(try f.result())
let w = ThreadWorker(name: "a-very-long-worker-name")
print(try TaskDispatcher(worker: w).execute { threadName() })
print(w.shutdown(timeout: .seconds(1)))
