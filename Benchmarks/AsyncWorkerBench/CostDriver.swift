// The workload of `.ci/cost-check`: `async-worker-bench --cost KIND --count N` runs a warm-up and then N
// operations of one kind, quietly, so valgrind can count what N operations cost (the check subtracts a
// run with N from a run with 2N, so start-up and warm-up cancel).
//
// Kinds in the cost check: `blocking` (`runAsyncTask { 1 }`), `fireforget` (`runAsyncTask(fireAndForget:)`),
// `post` (`Pipeline.post` through one trivial domain), `post4` (through four, built with `Pipeline { … }`
// as in the benchmark), `post4-then` (the same four joined with `then`), `run4`
// (`Pipeline.run` through four), `batch` (an element of `runAsyncBatch`), `iterate` (an `AsyncStream`
// element through `blocking()`) and `await` (a fire-and-forget future awaited from a task). For
// profiling only: `direct4`, `naive` and `floor` (the baselines of the pipeline and fire-and-forget
// scenarios), `caller-runs`, `sync` (`runSyncTask { 1 }` from a task), and `stream` (N fire-and-forget tasks without pause, then the last one
// awaited: the benchmark's pattern, for `perf`; its count would depend on timing). Fire-and-forget tasks
// and posts go in chunks of `costChunk`, each chunk awaited through its last future, so the worker's queue
// never grows past its reserved capacity and every run takes the same path whatever the timing.

import AsyncWorker
import Dispatch
import Synchronization

let costChunk = 50

enum CostKind: String, CaseIterable {
    case blocking
    case fireforget
    case post
    case stream
    /// `execute { 1 }` on a worker created with `callerRunsWhenIdle: true` (for profiling).
    case callerRuns = "caller-runs"
    /// The pipeline scenario's two contenders, for profiling: `Pipeline.post` through four trivial
    /// domains, and the same four steps as one `executeAsync` task per message.
    case post4
    /// `Pipeline.post` through the same four domains joined with `then` instead of the builder.
    case post4then = "post4-then"
    /// `Pipeline.run` over four trivial domains (for profiling).
    case run4
    /// One element of `runAsyncBatch` (batches of 50 trivial operations, 8 at once), for profiling.
    case batch
    /// One element of an `AsyncStream` iterated with `blocking()` (for profiling).
    case iterate
    /// A fire-and-forget task started and its future awaited from a task on the worker (for profiling
    /// `TaskFuture.value`).
    case await
    /// `runSyncTask { 1 }` awaited from a task on the worker (for profiling).
    case sync
    case direct4
    /// The naive fire-and-forget baseline (`Task.detached` per task), for profiling.
    case naive
    /// The task floor: a task created, run and completed inline with an executor preference (see
    /// `InlineTaskExecutor`), for profiling.
    case floor
}

/// Runs `count` operations of `kind` after a warm-up of `costChunk * 4`, on a plain thread: a wait on
/// the main thread would run the main run loop (``MainThreadWaiting``), whose timers depend on timing.
func runCostWorkload(_ kind: CostKind, count: Int) throws {
    let failure = Mutex<(any Error)?>(nil)
    let thread = JoinableThread {
        do { try costWorkload(kind, count: count) } catch { failure.withLock { $0 = error } }
    }
    thread.join()
    if let error = failure.withLock({ $0 }) { throw error }
}

private func costWorkload(_ kind: CostKind, count: Int) throws {
    let warmUp = costChunk * 4
    switch kind {
    case .blocking:
        for _ in 0..<(warmUp + count) { _ = try runAsyncTask { 1 } }
    case .fireforget:
        for chunk in chunks(warmUp + count) {
            var last: TaskFuture<Int>?
            for _ in 0..<chunk { last = runAsyncTask(fireAndForget: { 1 }) }
            _ = try last?.result()
        }
    case .post:
        let pipeline = Pipeline(Increment(), maxInFlight: 4_096)
        try postInChunks(warmUp + count, to: pipeline)
        pipeline.shutdown(timeout: .seconds(10))
    case .callerRuns:
        let worker = ThreadWorker(name: "cost-caller-runs", callerRunsWhenIdle: true)
        let dispatcher = TaskDispatcher(worker: worker)
        for _ in 0..<(warmUp + count) { _ = try dispatcher.execute { 1 } }
        worker.shutdown(timeout: .seconds(10))
    case .post4, .post4then:
        let worker = ThreadWorker(name: "cost-post4")
        defer { worker.shutdown(timeout: .seconds(10)) }
        let pipeline = fourDomainPipeline(on: worker, builder: kind == .post4)
        try postInChunks(warmUp + count, to: pipeline)
        pipeline.shutdown(timeout: .seconds(10))
    case .batch:
        for chunk in chunks(warmUp + count) {
            let outputs = try runAsyncBatch(0..<chunk, maxConcurrency: 8) { $0 &+ 1 }
            precondition(outputs.count == chunk, "a batch lost elements")
        }
    case .iterate:
        for total in [warmUp, count] {
            let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
            for value in 0..<total { continuation.yield(value) }
            continuation.finish()
            var seen = 0
            for _ in try stream.blocking(prefetch: 64) { seen += 1 }
            precondition(seen == total, "an iteration lost elements")
        }
    case .await:
        // Written out rather than shared with `.sync` through a helper taking the operation as a closure
        // value: calling that value adds an async frame and an executor hop (11.3 k -> 12.2 k measured).
        for total in [warmUp, count] {
            let sum = try runAsyncTask { () async throws -> Int in
                var sum = 0
                for _ in 0..<total { sum += try await runAsyncTask(fireAndForget: { 1 }).value }
                return sum
            }
            precondition(sum == total, "an await lost a value")
        }
    case .sync:
        for total in [warmUp, count] {
            let sum = try runAsyncTask { () async throws -> Int in
                var sum = 0
                for _ in 0..<total { sum += try await runSyncTask { 1 } }
                return sum
            }
            precondition(sum == total, "a runSyncTask lost a value")
        }
    case .run4:
        let worker = ThreadWorker(name: "cost-run4")
        defer { worker.shutdown(timeout: .seconds(10)) }
        let pipeline = fourDomainPipeline(on: worker)
        // One run for the warm-up, one for the count: per message, a run's own start and end cancel.
        for total in [warmUp, count] {
            let summary = try pipeline.run(0..<total)
            precondition(summary.succeeded == total, "a run lost messages")
        }
        pipeline.shutdown(timeout: .seconds(10))
    case .direct4:
        let worker = ThreadWorker(name: "cost-direct4")
        defer { worker.shutdown(timeout: .seconds(10)) }
        let dispatcher = TaskDispatcher(worker: worker)
        for chunk in chunks(warmUp + count) {
            var last: TaskFuture<Int>?
            for index in 0..<chunk {
                last = dispatcher.executeAsync {
                    let step = Increment()
                    return await step.execute(step.execute(step.execute(step.execute(index))))
                }
            }
            _ = try last?.result()
        }
    case .naive:
        for chunk in chunks(warmUp + count) {
            let done = AtomicCounter()
            let finished = DispatchSemaphore(value: 0)
            for _ in 0..<chunk {
                Task.detached { if done.increment() == chunk { finished.signal() } }
            }
            finished.wait()
        }
    case .floor:
        let executor = InlineTaskExecutor()
        let counter = AtomicCounter()
        for _ in 0..<(warmUp + count) { runInlineTask(on: executor, counting: counter) }
    case .stream:
        var last: TaskFuture<Int>?
        for _ in 0..<(warmUp + count) { last = runAsyncTask(fireAndForget: { 1 }) }
        _ = try last?.result()
    }
}

/// The benchmark's pipeline: four trivial domains, room for every message of a chunk; built with
/// `Pipeline { … }` or joined with `then`.
private func fourDomainPipeline(on worker: ThreadWorker, builder: Bool = true) -> Pipeline<Int, Int> {
    guard builder else {
        return Pipeline(Increment(), worker: worker, maxInFlight: 4_096).then(Increment()).then(Increment())
            .then(Increment())
    }
    return Pipeline(worker: worker, maxInFlight: 4_096) {
        Increment()
        Increment()
        Increment()
        Increment()
    }
}

/// Posts `total` messages in chunks of `costChunk`, each chunk awaited through its last future.
private func postInChunks(_ total: Int, to pipeline: Pipeline<Int, Int>) throws {
    for chunk in chunks(total) {
        var last: TaskFuture<Int>?
        for index in 0..<chunk { last = pipeline.post(index) }
        _ = try last?.result()
    }
}

private func chunks(_ total: Int) -> [Int] {
    var sizes = [Int](repeating: costChunk, count: total / costChunk)
    if total % costChunk != 0 { sizes.append(total % costChunk) }
    return sizes
}
