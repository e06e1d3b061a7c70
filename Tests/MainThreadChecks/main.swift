// main-thread-checks: scenarios that need a real main thread, which the test runner cannot give (there
// the main thread hands the main queue to Dispatch). `MainThreadHardeningTests` runs each scenario in a
// process of its own: `main-thread-checks <scenario>` exits 0 when the scenario holds, 1 when it does
// not, and 3 when it hangs (a watchdog thread ends the process).

import AsyncWorker
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func fail(_ message: String) -> Never {
    print("FAIL: \(message)")
    exit(1)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fail(message()) }
}

/// Seconds of CPU (user + system) the process has used.
func cpuSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func elapsed(since start: ContinuousClock.Instant) -> Duration { ContinuousClock.now - start }

/// An operation that needs the main actor, the way legacy UI-ish code hops to it.
@MainActor func touchMainActor() -> Int { 1 }

/// A domain that hops to the main actor.
struct MainActorStep: AsyncDomain {
    func execute(_ input: Int) async throws -> Int { await touchMainActor() + input }
}

/// The outer half of the nested-wait scenarios: a blocking call on the main thread whose operation (50 ms)
/// ends while the inner wait, started by a main-queue block in its run-loop slice, still waits (300 ms).
/// The outer call must return after the inner one, and without losing its own wake-up.
func outerCallOutlivingInnerWait(_ innerDone: DispatchSemaphore, inner: String) throws {
    let start = ContinuousClock.now
    let outer = try runAsyncTask(
        {
            try await Task.sleep(for: .milliseconds(50))
            return 1
        },
        timeout: .seconds(10)
    )
    check(outer == 1, "the outer call returned \(outer)")
    check(innerDone.wait(timeout: .now()) == .success, "the outer call returned before \(inner)")
    check(elapsed(since: start) < .seconds(5), "the outer call took \(elapsed(since: start)): its wake-up was lost")
}

let scenarios: [String: () throws -> Void] = [
    // 2. A main-queue block run inside a blocking call's run-loop slice makes its own blocking call; the
    // outer call's operation finishes first. The outer call must still see its wake-up.
    "nested-wait": {
        let innerDone = DispatchSemaphore(value: 0)
        DispatchQueue.main.async {
            let inner = try? runAsyncTask(
                {
                    try await Task.sleep(for: .milliseconds(300))
                    return 2
                },
                timeout: .seconds(10)
            )
            check(inner == 2, "the inner call returned \(String(describing: inner))")
            innerDone.signal()
        }
        try outerCallOutlivingInnerWait(innerDone, inner: "the inner call")
    },
    // 2, the blocking iterator: the inner wait is an iterator's next().
    "nested-iterator": {
        let innerDone = DispatchSemaphore(value: 0)
        DispatchQueue.main.async {
            let stream = AsyncStream<Int> { continuation in
                Task.detached {
                    try? await Task.sleep(for: .milliseconds(300))
                    continuation.yield(7)
                    continuation.finish()
                }
            }
            var iterator = try? stream.makeBlockingIterator()
            let first = try? iterator?.next()
            check(first == 7, "the iterator returned \(String(describing: first))")
            innerDone.signal()
        }
        try outerCallOutlivingInnerWait(innerDone, inner: "the iterator")
    },
    // 5. A blocking call made from a main-queue block of a program driven by the main run loop must
    // sleep, not spin (the nested run loop returns at once there).
    "wait-in-main-block": {
        let cpuBefore = cpuSeconds()
        let start = ContinuousClock.now
        let value = try runAsyncTask(
            {
                try await Task.sleep(for: .seconds(1))
                return 1
            },
            timeout: .seconds(10)
        )
        let cpu = cpuSeconds() - cpuBefore
        check(value == 1, "returned \(value)")
        check(elapsed(since: start) >= .milliseconds(900), "returned early: \(elapsed(since: start))")
        check(cpu < 0.5, "a 1 s wait used \(cpu) s of CPU: it spins")
    },
    // 5, with a timeout that passes: the same wait must end at its deadline, without spinning.
    "timeout-in-main-block": {
        let cpuBefore = cpuSeconds()
        let start = ContinuousClock.now
        do {
            _ = try runAsyncTask({ try await Task.sleep(for: .seconds(5)) }, timeout: .milliseconds(500))
            fail("no timeout")
        } catch AsyncWorkerError.timedOut {}
        let cpu = cpuSeconds() - cpuBefore
        check(elapsed(since: start) < .seconds(3), "the deadline was missed: \(elapsed(since: start))")
        check(cpu < 0.3, "a 0.5 s wait used \(cpu) s of CPU: it spins")
    },
    // 6. Waiting for room on a full worker services the run loop: the task holding the room needs the
    // main actor.
    "room-on-full-worker": {
        let worker = ThreadWorker(name: "full", maxPendingTasks: 1)
        let dispatcher = TaskDispatcher(worker: worker)
        let first = dispatcher.executeAsync { await touchMainActor() }
        let second = try dispatcher.execute({ 2 }, timeout: .seconds(10))
        check(try first.result(timeout: .seconds(10)) == 1, "the first task failed")
        check(second == 2, "the second call returned \(second)")
        let third = dispatcher.executeAsync { await touchMainActor() }
        let fourth = dispatcher.executeAsync { 4 }  // waits for room without a deadline
        check(try fourth.result(timeout: .seconds(10)) == 4, "the fourth task failed")
        check(try third.result(timeout: .seconds(10)) == 1, "the third task failed")
        worker.shutdown(timeout: .seconds(10))
    },
    // 6. Pipeline.post and run once maxInFlight is reached.
    "pipeline-slots": {
        let worker = ThreadWorker(name: "slots")
        let pipeline = Pipeline(MainActorStep(), worker: worker, maxInFlight: 1)
        let futures = (0..<3).map { pipeline.post($0) }
        for (index, future) in futures.enumerated() {
            check(try future.result(timeout: .seconds(10)) == index + 1, "message \(index) failed")
        }
        let summary = try pipeline.run(0..<5)
        check(summary.succeeded == 5, "run: \(summary)")
        pipeline.shutdown(timeout: .seconds(10))
        worker.shutdown(timeout: .seconds(10))
    },
    // 6. The end of a withWorker scope drains without a timeout: the pending task needs the main actor.
    "with-worker-end": {
        let future: TaskFuture<Int> = withWorker(name: "scoped") { worker in
            TaskDispatcher(worker: worker).executeAsync { await touchMainActor() }
        }
        check(try future.result(timeout: .seconds(1)) == 1, "the scope's task did not finish")
    },
    // 6. A shutdown with a timeout on the main thread drains while servicing the run loop.
    "shutdown-drain": {
        let worker = ThreadWorker(name: "drain")
        let future = worker.submit { await touchMainActor() }
        let report = worker.shutdown(timeout: .seconds(10))
        check(report.abandonedTasks == 0 && report.drainedTasks == 1, "report: \(report)")
        check(try future.result() == 1, "the task failed")
    },
]

let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let scenario = scenarios[name] else {
    print("usage: main-thread-checks <scenario>; scenarios: \(scenarios.keys.sorted().joined(separator: " "))")
    exit(2)
}

// A hang becomes a failure: end the process after 20 s.
let watchdog = Thread {
    Thread.sleep(forTimeInterval: 20)
    print("FAIL: \(name) hung")
    exit(3)
}
watchdog.start()

// Scenarios named "…-in-main-block" run inside a main-queue block of a program driven by the main run
// loop; the others run in plain top-level code on the main thread.
if name.hasSuffix("in-main-block") {
    DispatchQueue.main.async {
        do {
            try scenario()
            print("ok \(name)")
            exit(0)
        } catch {
            fail("\(name) threw \(error)")
        }
    }
    RunLoop.main.run()
} else {
    do {
        try scenario()
        print("ok \(name)")
        exit(0)
    } catch {
        fail("\(name) threw \(error)")
    }
}
