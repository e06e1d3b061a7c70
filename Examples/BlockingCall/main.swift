// A synchronous program calls async APIs with runAsyncTask: a value, a timeout, an error passed through.
//
//     swift run blocking-call

import AsyncWorker
import Foundation

/// An async API, as a modern SDK would offer it.
actor WeatherService {
    struct Unknown: Error, CustomStringConvertible {
        let city: String
        var description: String { "no weather for \(city)" }
    }

    private let temperatures = ["Lisbon": 21, "Oslo": 4, "Quito": 14]

    func temperature(in city: String, latency: Duration = .milliseconds(20)) async throws -> Int {
        try await Task.sleep(for: latency)
        guard let value = temperatures[city] else { throw Unknown(city: city) }
        return value
    }
}

let service = WeatherService()

// 1. A blocking call: this thread waits for the async work and gets its value.
let lisbon = try runAsyncTask { try await service.temperature(in: "Lisbon") }
print("Lisbon: \(lisbon) °C")

// 2. With a timeout: the call returns at the deadline and the task is cancelled.
let clock = ContinuousClock()
let start = clock.now
do {
    _ = try runAsyncTask(
        { try await service.temperature(in: "Oslo", latency: .seconds(10)) },
        timeout: .milliseconds(100)
    )
} catch AsyncWorkerError.timedOut {
    print("Oslo: timed out after \(clock.now - start) (the task was cancelled)")
}

// 3. The operation's own errors arrive unchanged, with their own type.
do {
    _ = try runAsyncTask({ try await service.temperature(in: "Atlantis") }, timeout: 2.0)  // TimeInterval works too
} catch let error as WeatherService.Unknown {
    print("Atlantis: \(error)")
}

// 4. Blocking on the worker's own thread would deadlock: it is refused at once.
let refusal = try runAsyncTask { () -> String in
    do {
        _ = try runAsyncTask { 1 }
        return "no error?"
    } catch {
        return "\(error)"
    }
}
print("Nested blocking call: \(refusal.prefix(60))…")

// 5. On the main thread, an operation may hop to @MainActor: the blocking call keeps the main run loop
//    serviced while it waits (MainThreadWaiting.policy, .serviceRunLoop by default).
@MainActor func mainActorGreeting() -> String { "hello from the main actor" }
do {
    let greeting = try runAsyncTask({ await mainActorGreeting() }, timeout: .seconds(10))
    print("Main-actor hop from a blocked main thread: \(greeting)")
} catch {
    print("Main-actor hop failed: \(error)")
    exit(1)
}

// With the opt-out, the same call cannot finish: the main thread is the one waiting.
MainThreadWaiting.policy = .block
do {
    _ = try runAsyncTask({ await mainActorGreeting() }, timeout: .milliseconds(200))
    print("With .block: finished?")
    exit(1)
} catch AsyncWorkerError.timedOut {
    print("With .block: timed out after 200 ms, as expected (the deadlock the default avoids)")
}
MainThreadWaiting.policy = .serviceRunLoop
