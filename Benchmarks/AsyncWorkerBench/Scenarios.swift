// The scenarios. Each runs its contenders interleaved, round by round (round 1: baselines then
// AsyncWorker; round 2: the same; …), and adds one figure per round to the report. Ratios are taken per
// round, between contenders measured in that round, and the table shows their median over rounds.

import AsyncWorker
import Dispatch
import Synchronization

// MARK: - Fire-and-forget throughput

/// Rates of one fire-and-forget run, per second, measured from the instant the callers were released.
struct Throughput {
    /// Tasks divided by the time until the last caller finished submitting.
    var submissions: Double
    /// Tasks divided by the time until the last task's future was resolved.
    var completions: Double
    /// CPU time of the whole process from the start to the last completion, per task.
    var cpuPerTask: Double = 0
}

/// The last future each caller thread got, collected for the completion wait.
private final class LastFutures: Sendable {
    private let slots: Mutex<[TaskFuture<Void>?]>

    init(count: Int) {
        slots = Mutex(Array(repeating: nil, count: count))
    }

    func store(_ future: TaskFuture<Void>?, at index: Int) {
        slots.withLock { $0[index] = future }
    }

    var all: [TaskFuture<Void>?] { slots.withLock { $0 } }
}

private func share(of total: Int, callers: Int, index: Int) -> Int {
    total / callers + (index < total % callers ? 1 : 0)
}

/// `tasks` trivial operations through `runAsyncTask(fireAndForget:)` from `callers` threads. Completion is
/// when every caller's last future is resolved (and the operations' own counter confirms all ran).
func asyncWorkerFireAndForget(tasks: Int, callers: Int) throws -> Throughput {
    let completed = AtomicCounter()
    let lastFutures = LastFutures(count: callers)
    let cpuBefore = processCPUNanoseconds()
    let window = runOnThreads(callers) { index in
        var last: TaskFuture<Void>?
        for _ in 0..<share(of: tasks, callers: callers, index: index) {
            last = runAsyncTask(fireAndForget: { () -> Void in completed.increment() })
        }
        lastFutures.store(last, at: index)
    }
    for future in lastFutures.all { try future?.result() }
    waitUntil("the fire-and-forget tasks") { completed.current == tasks }
    let done = monotonicNanoseconds()
    return Throughput(
        submissions: Double(tasks) * 1e9 / Double(window.end - window.start),
        completions: Double(tasks) * 1e9 / Double(done - window.start),
        cpuPerTask: Double(processCPUNanoseconds() - cpuBefore) / Double(tasks)
    )
}

/// The naive way: one `Task.detached` per operation on the global pool, from one caller.
func naiveFireAndForget(tasks: Int) -> Throughput {
    let completed = AtomicCounter()
    let allDone = DispatchSemaphore(value: 0)
    let cpuBefore = processCPUNanoseconds()
    let start = monotonicNanoseconds()
    for _ in 0..<tasks {
        Task.detached {
            if completed.increment() == tasks { allDone.signal() }
        }
    }
    let submitted = monotonicNanoseconds()
    allDone.wait()
    let done = monotonicNanoseconds()
    return Throughput(
        submissions: Double(tasks) * 1e9 / Double(submitted - start),
        completions: Double(tasks) * 1e9 / Double(done - start),
        cpuPerTask: Double(processCPUNanoseconds() - cpuBefore) / Double(tasks)
    )
}

/// Tasks created, run and completed inline on one thread (see ``InlineTaskExecutor``), per second.
func inlineTaskRate(tasks: Int, executor: InlineTaskExecutor) -> Double {
    let counter = AtomicCounter()
    let start = monotonicNanoseconds()
    for _ in 0..<tasks { runInlineTask(on: executor, counting: counter) }
    let elapsed = monotonicNanoseconds() - start
    precondition(counter.current == tasks, "an inline task did not run")
    return Double(tasks) * 1e9 / Double(elapsed)
}

// MARK: - Memory of tasks suspended at once

/// One slot per task for its continuation. Each task writes only its own slot, then bumps `suspended`
/// (release); the reader waits for the full count (acquire) before touching any slot.
private final class ContinuationSlots: @unchecked Sendable {
    let count: Int
    let suspended = AtomicCounter()
    private let slots: UnsafeMutablePointer<CheckedContinuation<Void, Never>?>

    /// Allocates and touches every slot, so the slots are resident before the baseline is read.
    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// Suspends the calling task until ``resumeAll()``.
    func park(_ index: Int) async {
        await withCheckedContinuation { continuation in
            slots[index] = continuation
            suspended.increment()
        }
    }

    func resumeAll() {
        for index in 0..<count {
            slots[index].take()!.resume()
        }
    }
}

/// Resident memory per suspended task, in bytes: `tasks` task-group children, each suspended in a
/// continuation, started by one operation; `run` starts that operation and returns a way to wait for it.
private func residentPerSuspendedTask(
    tasks: Int,
    run: (ContinuationSlots) -> () throws -> Void
) throws -> Double {
    releaseFreedMemory()
    let slots = ContinuationSlots(count: tasks)
    let before = residentBytes()
    let waitForEnd = run(slots)
    waitUntil("\(tasks) tasks to suspend") { slots.suspended.current == tasks }
    let during = residentBytes()
    slots.resumeAll()
    try waitForEnd()
    return Double(during - before) / Double(tasks)
}

/// The operation both contenders run: a discarding task group whose children all park.
private func parkAll(_ slots: ContinuationSlots) async {
    await withDiscardingTaskGroup { group in
        for index in 0..<slots.count {
            group.addTask { await slots.park(index) }
        }
    }
}

func runSuspendedScenario(_ config: BenchConfig, _ report: Report) throws {
    let tasks = config.suspendedTasks
    report.section("\(tasks) tasks suspended at once in withCheckedContinuation (task-group children)")
    let worker = ThreadWorker(name: "bench-suspend")
    let dispatcher = TaskDispatcher(worker: worker)

    func onGlobalPool(_ slots: ContinuationSlots) -> () throws -> Void {
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await parkAll(slots)
            done.signal()
        }
        return { done.wait() }
    }
    func onWorker(_ slots: ContinuationSlots) -> () throws -> Void {
        let future = dispatcher.executeAsync { await parkAll(slots) }
        return { try future.result() }
    }

    // Warm-up.
    _ = try residentPerSuspendedTask(tasks: max(1, tasks / 20), run: onGlobalPool)
    _ = try residentPerSuspendedTask(tasks: max(1, tasks / 20), run: onWorker)

    var global: [Double] = []
    var onThread: [Double] = []
    for round in 1...config.rounds {
        progress("suspended tasks: round \(round)/\(config.rounds)")
        // The reference is measured in round 1 only: the figure is deterministic (it varies by about 1%
        // between rounds) and a million suspended tasks cost seconds per run.
        if round == 1 {
            global.append(try timed("global pool") { try residentPerSuspendedTask(tasks: tasks, run: onGlobalPool) })
        }
        onThread.append(try timed("AsyncWorker") { try residentPerSuspendedTask(tasks: tasks, run: onWorker) })
    }
    worker.shutdown(timeout: .seconds(5))
    releaseFreedMemory()

    report.add("global pool (plain Task.detached parent), round 1 only: resident per task", global, .bytes)
    report.add(
        "AsyncWorker (operation on a ThreadWorker): resident per task",
        onThread,
        .bytes,
        .atMost(1.6 * 1024, "≤ 1.60 KiB")
    )
    report.addRatio("AsyncWorker / global pool (round 1)", onThread, over: global)
}

// MARK: - A producer that outruns the worker

/// A little CPU work per task (a few hundred dependent shifts), kept from being optimised away.
@inline(never)
private func littleWork(_ seed: UInt64) -> UInt64 {
    var x = seed | 1
    for _ in 0..<100 {
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
    }
    return x
}

private final class WorkSink: Sendable {
    private let value = Atomic<UInt64>(0)
    func absorb(_ x: UInt64) { value.store(x, ordering: .relaxed) }
}

private struct ProducerRun {
    /// Peak resident growth over the pre-run baseline, sampled every few thousand submissions.
    var peakGrowth: Double
    var tasksQueuedWhenSubmissionEnded: Double
    var submissions: Double
    var completions: Double
}

/// One producer thread submits `tasks` operations as fast as `submit` allows, sampling resident memory;
/// `submit(seed, completed)` starts one task and returns a way to wait for it.
private func runProducer(
    tasks: Int,
    submit: (UInt64, AtomicCounter) -> () throws -> Void
) throws -> ProducerRun {
    releaseFreedMemory()
    let completed = AtomicCounter()
    let before = residentBytes()
    var peak = before
    var waitForLast: () throws -> Void = {}
    let start = monotonicNanoseconds()
    for index in 0..<tasks {
        waitForLast = submit(UInt64(index), completed)
        if index & 8191 == 0 { peak = max(peak, residentBytes()) }
    }
    peak = max(peak, residentBytes())
    let submitted = monotonicNanoseconds()
    let queued = tasks - completed.current
    try waitForLast()
    waitUntil("the producer's tasks") { completed.current == tasks }
    let done = monotonicNanoseconds()
    return ProducerRun(
        peakGrowth: Double(peak - before),
        tasksQueuedWhenSubmissionEnded: Double(queued),
        submissions: Double(tasks) * 1e9 / Double(submitted - start),
        completions: Double(tasks) * 1e9 / Double(done - start)
    )
}

func runProducerScenario(_ config: BenchConfig, _ report: Report) throws {
    let tasks = config.producerTasks
    report.section("runaway producer: 1 thread submits \(tasks) fire-and-forget tasks doing a little work")
    let worker = ThreadWorker(name: "bench-producer")
    let dispatcher = TaskDispatcher(worker: worker)
    let sink = WorkSink()

    func naive(_ seed: UInt64, _ completed: AtomicCounter) -> () throws -> Void {
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            sink.absorb(littleWork(seed))
            completed.increment()
            done.signal()
        }
        return { done.wait() }
    }
    func onWorker(_ seed: UInt64, _ completed: AtomicCounter) -> () throws -> Void {
        let future = dispatcher.executeAsync { () -> Void in
            sink.absorb(littleWork(seed))
            completed.increment()
        }
        return { try future.result() }
    }

    _ = try runProducer(tasks: max(1, tasks / 20), submit: naive)
    _ = try runProducer(tasks: max(1, tasks / 20), submit: onWorker)

    var naiveRuns: [ProducerRun] = []
    var workerRuns: [ProducerRun] = []
    for round in 1...config.rounds {
        progress("runaway producer: round \(round)/\(config.rounds)")
        // Reference without a target, measured in round 1 only to keep the full run short.
        if round == 1 { naiveRuns.append(try timed("naive") { try runProducer(tasks: tasks, submit: naive) }) }
        workerRuns.append(try timed("AsyncWorker") { try runProducer(tasks: tasks, submit: onWorker) })
    }
    worker.shutdown(timeout: .seconds(5))
    releaseFreedMemory()

    for (name, runs) in [("naive Task.detached (round 1 only)", naiveRuns), ("AsyncWorker executeAsync", workerRuns)] {
        report.add("\(name): peak resident growth", runs.map(\.peakGrowth), .bytes)
        report.add("\(name): peak growth per submitted task", runs.map { $0.peakGrowth / Double(tasks) }, .bytes)
        report.add(
            "\(name): tasks not yet run when submission ended",
            runs.map(\.tasksQueuedWhenSubmissionEnded),
            .count
        )
        report.add("\(name): submissions/s", runs.map(\.submissions), .perSecond)
        report.add("\(name): completions/s", runs.map(\.completions), .perSecond)
    }
    report.add(
        "AsyncWorker peak resident growth (bound: maxPendingTasks 16,384)",
        workerRuns.map(\.peakGrowth),
        .bytes,
        .atMost(32 * 1024 * 1024, "≤ 32 MiB")
    )
}

// MARK: - Timeout precision

func runTimeoutScenario(_ config: BenchConfig, _ report: Report) throws {
    let tries = config.timeoutTries
    let timeout = Duration.milliseconds(50)
    let timeoutNanoseconds: UInt64 = 50_000_000
    // The semaphore reference needs fewer tries: it is the kernel timer's own overshoot.
    let referenceTries = max(1, tries / 2)
    report.section(
        "timeout precision: 50 ms timeout on a 10 s sleep, \(tries) tries per round (semaphore: \(referenceTries))"
    )

    func semaphoreOvershoots() -> [Double] {
        (0..<referenceTries).map { _ in
            let never = DispatchSemaphore(value: 0)
            let start = monotonicNanoseconds()
            let outcome = never.wait(timeout: .now() + .nanoseconds(Int(timeoutNanoseconds)))
            let elapsed = monotonicNanoseconds() - start
            precondition(outcome == .timedOut, "a semaphore nobody signals was signalled")
            return Double(Int64(elapsed) - Int64(timeoutNanoseconds))
        }
    }
    func workerOvershoots() throws -> [Double] {
        try (0..<tries).map { _ in
            let start = monotonicNanoseconds()
            do {
                try runAsyncTask({ try await Task.sleep(for: .seconds(10)) }, timeout: timeout)
                preconditionFailure("a 10 s sleep finished within a 50 ms timeout")
            } catch AsyncWorkerError.timedOut {
                return Double(Int64(monotonicNanoseconds() - start) - Int64(timeoutNanoseconds))
            }
        }
    }

    var semaphoreP50: [Double] = []
    var semaphoreP99: [Double] = []
    var workerP50: [Double] = []
    var workerP99: [Double] = []
    for round in 1...config.rounds {
        progress("timeout: round \(round)/\(config.rounds)")
        let semaphore = semaphoreOvershoots().sorted()
        let worker = try workerOvershoots().sorted()
        semaphoreP50.append(percentile(ofSorted: semaphore, 0.50))
        semaphoreP99.append(percentile(ofSorted: semaphore, 0.99))
        workerP50.append(percentile(ofSorted: worker, 0.50))
        workerP99.append(percentile(ofSorted: worker, 0.99))
    }
    report.add("DispatchSemaphore.wait(timeout:) overshoot p50", semaphoreP50, .nanoseconds)
    report.add("DispatchSemaphore.wait(timeout:) overshoot p99", semaphoreP99, .nanoseconds)
    report.add(
        "AsyncWorker runAsyncTask(timeout:) overshoot p50",
        workerP50,
        .nanoseconds,
        .atMost(100_000, "≤ 100 µs")
    )
    report.add(
        "AsyncWorker runAsyncTask(timeout:) overshoot p99",
        workerP99,
        .nanoseconds,
        .atMost(1_000_000, "≤ 1 ms")
    )
    report.addRatio("AsyncWorker p50 / semaphore p50", workerP50, over: semaphoreP50)
    report.addRatio("AsyncWorker p99 / semaphore p99", workerP99, over: semaphoreP99)
}

// MARK: - Cold start

func runColdStartScenario(_ config: BenchConfig, _ report: Report) throws {
    let starts = config.coldStarts
    report.section(
        "cold start: new thread → first completed round trip, then stop it; \(starts) starts per contender per round"
    )

    /// p50 of (start → first hand-off) and of the stop, over `starts` fresh plain threads.
    func plainThreads() -> (start: Double, stop: Double) {
        var startTimes: [Double] = []
        var stopTimes: [Double] = []
        for _ in 0..<starts {
            let begin = monotonicNanoseconds()
            let answered = DispatchSemaphore(value: 0)
            let thread = JoinableThread { answered.signal() }
            answered.wait()
            let firstTrip = monotonicNanoseconds()
            thread.join()
            let stopped = monotonicNanoseconds()
            startTimes.append(Double(firstTrip - begin))
            stopTimes.append(Double(stopped - firstTrip))
        }
        return (median(startTimes), median(stopTimes))
    }
    func workers() throws -> (start: Double, stop: Double) {
        var startTimes: [Double] = []
        var stopTimes: [Double] = []
        for _ in 0..<starts {
            let begin = monotonicNanoseconds()
            let worker = ThreadWorker(name: "bench-cold")
            let dispatcher = TaskDispatcher(worker: worker)
            _ = try dispatcher.execute { 1 }
            let firstTrip = monotonicNanoseconds()
            let outcome = worker.shutdown(timeout: .seconds(1))
            let stopped = monotonicNanoseconds()
            precondition(outcome.isClean, "cold-start worker did not shut down cleanly: \(outcome)")
            startTimes.append(Double(firstTrip - begin))
            stopTimes.append(Double(stopped - firstTrip))
        }
        return (median(startTimes), median(stopTimes))
    }

    var plain: [(start: Double, stop: Double)] = []
    var worker: [(start: Double, stop: Double)] = []
    for round in 1...config.rounds {
        progress("cold start: round \(round)/\(config.rounds)")
        plain.append(plainThreads())
        worker.append(try workers())
    }
    report.add("pthread create → first semaphore hand-off, p50", plain.map(\.start), .nanoseconds)
    report.add("pthread join, p50", plain.map(\.stop), .nanoseconds)
    report.add(
        "AsyncWorker new ThreadWorker → execute { 1 } done, p50",
        worker.map(\.start),
        .nanoseconds,
        .atMost(300_000, "≤ 0.30 ms")
    )
    report.add("AsyncWorker shutdown(timeout:), p50", worker.map(\.stop), .nanoseconds)
    report.addRatio("AsyncWorker start / pthread start", worker.map(\.start), over: plain.map(\.start))
}

// MARK: - Pipeline

/// One trivial step of the pipeline scenario.
struct Increment: AsyncDomain {
    func execute(_ input: Int) async -> Int { input &+ 1 }
}

/// A pipeline of 4 trivial domains, built with `Pipeline { … }` (and, for `post`, also with `then`). `post` throughput (all messages posted, then every future awaited)
/// and `run` throughput (the same messages as one sequence) against the same 4 steps as direct calls in
/// one `executeAsync` task per message; `send` latency against the plain round trip, all measured in the
/// same round.
func runPipelineScenario(_ config: BenchConfig, _ report: Report) throws {
    let messages = config.pipelineMessages
    let calls = config.pipelineSends
    report.section(
        "pipeline of 4 trivial domains: \(messages) posts, a run of \(messages), \(calls) sends per contender per round"
    )
    let worker = ThreadWorker(name: "bench-pipeline")
    let dispatcher = TaskDispatcher(worker: worker)
    // The two spellings of the same pipeline: the builder's chain runs as one specialised function, the
    // `then` chain as one closure per domain (see `DomainChain`).
    let pipeline = Pipeline(worker: worker, maxInFlight: 4_096) {
        Increment()
        Increment()
        Increment()
        Increment()
    }
    let chained = Pipeline(Increment(), worker: worker, maxInFlight: 4_096)
        .then(Increment()).then(Increment()).then(Increment())
    let sampler = LatencySampler(capacity: calls)

    func postAll(_ pipeline: Pipeline<Int, Int>) throws -> Double {
        let start = monotonicNanoseconds()
        var futures: [TaskFuture<Int>] = []
        futures.reserveCapacity(messages)
        for index in 0..<messages { futures.append(pipeline.post(index)) }
        for (index, future) in futures.enumerated() where try future.result() != index + 4 {
            preconditionFailure("pipeline output mismatch")
        }
        return Double(messages) * 1e9 / Double(monotonicNanoseconds() - start)
    }
    func runAll() throws -> Double {
        let start = monotonicNanoseconds()
        let summary = try pipeline.run(0..<messages)
        precondition(summary.succeeded == messages, "pipeline run lost messages")
        return Double(messages) * 1e9 / Double(monotonicNanoseconds() - start)
    }
    func directAll() throws -> Double {
        let start = monotonicNanoseconds()
        var futures: [TaskFuture<Int>] = []
        futures.reserveCapacity(messages)
        for index in 0..<messages {
            futures.append(
                dispatcher.executeAsync {
                    let step = Increment()
                    return await step.execute(step.execute(step.execute(step.execute(index))))
                }
            )
        }
        for (index, future) in futures.enumerated() where try future.result() != index + 4 {
            preconditionFailure("direct output mismatch")
        }
        return Double(messages) * 1e9 / Double(monotonicNanoseconds() - start)
    }

    _ = try postAll(pipeline)
    _ = try postAll(chained)
    _ = try runAll()
    _ = try directAll()
    var posts: [Double] = []
    var chainedPosts: [Double] = []
    var runs: [Double] = []
    var directs: [Double] = []
    var sends: [RunLatency] = []
    var roundTrips: [RunLatency] = []
    for round in 1...config.rounds {
        progress("pipeline: round \(round)/\(config.rounds)")
        posts.append(try timed("post") { try postAll(pipeline) })
        chainedPosts.append(try timed("post (then)") { try postAll(chained) })
        runs.append(try timed("run") { try runAll() })
        directs.append(try timed("direct") { try directAll() })
        sends.append(try sampler.measure(calls: calls) { _ = try pipeline.send(1) })
        roundTrips.append(try sampler.measure(calls: calls) { _ = try dispatcher.execute { 1 } })
    }
    pipeline.shutdown(timeout: .seconds(5))
    chained.shutdown(timeout: .seconds(5))
    worker.shutdown(timeout: .seconds(5))

    report.add("4 steps as one task (executeAsync): messages/s", directs, .perSecond)
    report.add("Pipeline { … }.post: messages/s", posts, .perSecond)
    report.addRatio("Pipeline { … }.post / one task", posts, over: directs, .atLeast(0.7, "≥ 0.70×"))
    report.add("Pipeline(…).then(…).post: messages/s", chainedPosts, .perSecond)
    report.addRatio("Pipeline(…).then(…).post / one task", chainedPosts, over: directs)
    report.add("Pipeline.run (the same messages as one sequence): messages/s", runs, .perSecond)
    report.addRatio("Pipeline.run / one task", runs, over: directs)
    report.add("execute { 1 } round trip: mean", roundTrips.map(\.mean), .nanoseconds)
    report.add("Pipeline.send: p50", sends.map(\.p50), .nanoseconds)
    report.add("Pipeline.send: mean", sends.map(\.mean), .nanoseconds)
    report.addRatio("Pipeline.send mean / round-trip mean", sends.map(\.mean), over: roundTrips.map(\.mean))
}

// MARK: - Cost of stall detection

/// What turning stall detection on costs a plain blocking call and fire-and-forget throughput: the same
/// dedicated worker, detection off and on in alternate rounds (threshold 1 s, so nothing is reported).
/// The always-on metrics (a clock read at submission and at start, a histogram add) are in every figure.
func runMonitoringScenario(_ config: BenchConfig, _ report: Report) throws {
    let calls = config.roundTripCalls
    let tasks = config.fireAndForgetTasks / 2
    report.section("stall detection off vs on: \(calls) round trips and \(tasks) fire-and-forget tasks per round")
    let worker = ThreadWorker(name: "bench-stall")
    defer { worker.shutdown(timeout: .seconds(5)) }
    let dispatcher = TaskDispatcher(worker: worker)
    let sampler = LatencySampler(capacity: calls)

    func fireAndForgetRate() throws -> Double {
        let completed = AtomicCounter()
        let start = monotonicNanoseconds()
        var last: TaskFuture<Void>?
        for _ in 0..<tasks { last = dispatcher.executeAsync { () -> Void in completed.increment() } }
        try last?.result()
        waitUntil("the fire-and-forget tasks") { completed.current == tasks }
        return Double(tasks) * 1e9 / Double(monotonicNanoseconds() - start)
    }
    func setDetection(_ on: Bool) {
        if on {
            worker.onStall(threshold: .seconds(1)) { _ in }
        } else {
            worker.onStall(perform: nil)
        }
    }

    _ = try sampler.measure(calls: max(1, calls / 20)) { _ = try dispatcher.execute { 1 } }
    var offRuns: [RunLatency] = []
    var onRuns: [RunLatency] = []
    var offRates: [Double] = []
    var onRates: [Double] = []
    for round in 1...config.rounds {
        progress("stall detection: round \(round)/\(config.rounds)")
        // Alternate which goes first, so a drift in the machine's load favours neither.
        for on in round.isMultiple(of: 2) ? [true, false] : [false, true] {
            setDetection(on)
            let runs = try sampler.measure(calls: calls) { _ = try dispatcher.execute { 1 } }
            let rate = try fireAndForgetRate()
            if on {
                onRuns.append(runs)
                onRates.append(rate)
            } else {
                offRuns.append(runs)
                offRates.append(rate)
            }
        }
    }
    setDetection(false)
    let stalls = worker.metrics().stalls
    precondition(stalls == 0, "a trivial operation was reported as a stall")

    report.add("round trip, detection off: p50", offRuns.map(\.p50), .nanoseconds)
    report.add("round trip, detection on: p50", onRuns.map(\.p50), .nanoseconds)
    report.add("fire-and-forget, detection off: completions/s", offRates, .perSecond)
    report.add("fire-and-forget, detection on: completions/s", onRates, .perSecond)
    report.addRatio("round trip on / off (p50)", onRuns.map(\.p50), over: offRuns.map(\.p50))
    report.addRatio("round trip on / off (mean)", onRuns.map(\.mean), over: offRuns.map(\.mean))
    report.addRatio("fire-and-forget on / off (completions)", onRates, over: offRates)
    let latency = worker.metrics().startLatency
    report.add("the worker's own start-latency p50 (its metrics)", [Double(latency.p50.nanosecondsValue)], .nanoseconds)
}

extension Duration {
    fileprivate var nanosecondsValue: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

// MARK: - What the bridge's optional features cost a plain runAsyncTask

/// Holds the calling thread for `nanoseconds` without sleeping: an operation longer than the caller's
/// spin phase, so the caller parks (on its condition variable, or in the main run loop).
@inline(never)
func busyWait(nanoseconds: UInt64) -> Int {
    let end = monotonicNanoseconds() + nanoseconds
    var spins = 0
    while monotonicNanoseconds() < end { spins &+= 1 }
    return spins
}

/// Round trips of `runAsyncTask` with each run-time switch of the blocking path flipped, interleaved
/// within each round (the order rotates from round to round so a drift in load favours none): the
/// blocking-from-async check (`BlockingCallDiagnostics.shared.policy`: `.report` by default, against
/// `.allow`, which skips it), main-thread waiting (`MainThreadWaiting.policy`: `.serviceRunLoop` by default,
/// against `.block`), and the same call from a plain thread, where no main-thread path applies. A trivial
/// operation is answered within the caller's spin phase; one that holds the worker 60 µs makes the caller
/// park, which is where main-thread waiting differs. Stall detection has its own scenario (`monitoring`);
/// the always-on metrics cannot be switched off, so their cost is measured across builds
/// (`Benchmarks/compare-commits.sh`).
func runHotPathScenario(_ config: BenchConfig, _ report: Report) throws {
    let calls = config.roundTripCalls
    let slowCalls = max(1, calls / 10)
    let slowNanoseconds: UInt64 = 60_000
    report.section(
        "switches on the blocking path: \(calls) runAsyncTask { 1 } (\(slowCalls) holding the worker 60 µs) "
            + "per contender per round"
    )
    let diagnostics = BlockingCallDiagnostics.shared
    let savedDiagnostics = diagnostics.policy
    let savedWaiting = MainThreadWaiting.policy
    defer {
        diagnostics.policy = savedDiagnostics
        MainThreadWaiting.policy = savedWaiting
    }
    let sampler = LatencySampler(capacity: calls)

    enum Contender: CaseIterable {
        case defaults, diagnosticsAllowed, mainThreadBlocks, plainThread, slowDefaults, slowMainThreadBlocks
        case slowPlainThread

        var isSlow: Bool { [.slowDefaults, .slowMainThreadBlocks, .slowPlainThread].contains(self) }
        var onPlainThread: Bool { self == .plainThread || self == .slowPlainThread }
    }

    func measure(_ contender: Contender) throws -> RunLatency {
        diagnostics.policy = contender == .diagnosticsAllowed ? .allow : .report
        let blocks = contender == .mainThreadBlocks || contender == .slowMainThreadBlocks
        MainThreadWaiting.policy = blocks ? .block : .serviceRunLoop
        let count = contender.isSlow ? slowCalls : calls
        let hold: UInt64 = contender.isSlow ? slowNanoseconds : 0
        guard contender.onPlainThread else {
            return try sampler.measure(calls: count) {
                _ = try runAsyncTask { hold == 0 ? 1 : busyWait(nanoseconds: hold) }
            }
        }
        let outcome = Mutex<Result<RunLatency, any Error>?>(nil)
        _ = runOnThreads(1) { _ in
            let sampler = LatencySampler(capacity: count)
            let result = Result {
                try sampler.measure(calls: count) {
                    _ = try runAsyncTask { hold == 0 ? 1 : busyWait(nanoseconds: hold) }
                }
            }
            outcome.withLock { $0 = result }
        }
        return try outcome.withLock { $0! }.get()
    }

    for contender in Contender.allCases { _ = try measure(contender) }  // warm-up
    var runs: [Contender: [RunLatency]] = [:]
    let order = Contender.allCases
    for round in 1...config.rounds {
        progress("hot path: round \(round)/\(config.rounds)")
        for offset in 0..<order.count {
            let contender = order[(offset + round) % order.count]
            runs[contender, default: []].append(try measure(contender))
        }
    }
    let names: [(Contender, String)] = [
        (.defaults, "main thread, defaults (diagnosis .report, .serviceRunLoop)"),
        (.diagnosticsAllowed, "main thread, diagnosis .allow (check skipped)"),
        (.mainThreadBlocks, "main thread, MainThreadWaiting .block"),
        (.plainThread, "plain thread, defaults"),
        (.slowDefaults, "60 µs operation, main thread, defaults"),
        (.slowMainThreadBlocks, "60 µs operation, main thread, .block"),
        (.slowPlainThread, "60 µs operation, plain thread, defaults"),
    ]
    for (contender, name) in names {
        report.add("\(name): p50", runs[contender]!.map(\.p50), .nanoseconds)
        report.add("\(name): mean", runs[contender]!.map(\.mean), .nanoseconds)
    }
    let ratios: [(String, Contender, Contender)] = [
        ("diagnosis: .report (default) / .allow", .defaults, .diagnosticsAllowed),
        ("main-thread waiting: .serviceRunLoop (default) / .block", .defaults, .mainThreadBlocks),
        ("main thread / plain thread, defaults", .defaults, .plainThread),
        ("60 µs operation: .serviceRunLoop (default) / .block", .slowDefaults, .slowMainThreadBlocks),
        ("60 µs operation: main thread / plain thread, defaults", .slowDefaults, .slowPlainThread),
    ]
    for (name, numerator, denominator) in ratios {
        report.addRatio("\(name) (p50)", runs[numerator]!.map(\.p50), over: runs[denominator]!.map(\.p50))
        report.addRatio("\(name) (mean)", runs[numerator]!.map(\.mean), over: runs[denominator]!.map(\.mean))
    }

    // What the always-on parts do per call, replayed in a tight loop: the blocking-from-async check (a
    // relaxed load of the policy, then `withUnsafeCurrentTask`), and the metrics' per-task work (two
    // monotonic clock reads and the histogram's three relaxed atomic adds). Too small to see in a round
    // trip, so they are timed alone and put beside the round trip measured above.
    let iterations = calls * 20
    let policy = Atomic<UInt8>(1)
    let bucket = Atomic<UInt64>(0)
    let sum = Atomic<UInt64>(0)
    let count = Atomic<UInt64>(0)
    var checkCosts: [Double] = []
    var metricsCosts: [Double] = []
    for _ in 1...config.rounds {
        var inTask = 0
        let checkStart = monotonicNanoseconds()
        for _ in 0..<iterations where policy.load(ordering: .relaxed) != 0 {
            if withUnsafeCurrentTask(body: { $0 != nil }) { inTask &+= 1 }
        }
        checkCosts.append(Double(monotonicNanoseconds() - checkStart) / Double(iterations))
        precondition(inTask == 0, "the benchmark's main thread is not inside a task")

        let metricsStart = monotonicNanoseconds()
        for _ in 0..<iterations {
            let submitted = monotonicNanoseconds()
            let started = monotonicNanoseconds()
            bucket.wrappingAdd(1, ordering: .relaxed)
            sum.wrappingAdd(started &- submitted, ordering: .relaxed)
            count.wrappingAdd(1, ordering: .relaxed)
        }
        metricsCosts.append(Double(monotonicNanoseconds() - metricsStart) / Double(iterations))
    }
    precondition(count.load(ordering: .relaxed) == UInt64(iterations * config.rounds), "lost adds")
    report.add("diagnosis check alone (load + withUnsafeCurrentTask), per call", checkCosts, .nanoseconds)
    report.add("metrics alone (2 clock reads + 3 relaxed atomic adds), per task", metricsCosts, .nanoseconds)
    report.addRatio("diagnosis check / round trip p50 (main thread)", checkCosts, over: runs[.defaults]!.map(\.p50))
    report.addRatio("metrics / round trip p50 (main thread)", metricsCosts, over: runs[.defaults]!.map(\.p50))
}
