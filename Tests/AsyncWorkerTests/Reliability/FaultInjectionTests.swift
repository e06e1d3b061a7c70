import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

/// Needs the main actor (the main queue), like UI or main-thread-confined code.
@MainActor
func onMainActor() -> Int {
    MainActor.assertIsolated()
    return 7
}

@Suite("Fault injection: misbehaving operations and handlers")
struct FaultInjectionTests {
    @Test("an operation that hops to @MainActor while the main thread waits: the caller comes back at its timeout")
    func mainActorHopWhileMainThreadWaits() {
        let worker = ThreadWorker(name: "main-hop")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let outcome = ResultBox<Int>()
        let done = DispatchSemaphore(value: 0)
        // Make the main actor's executor (the main queue) the blocked caller.
        DispatchQueue.main.async {
            outcome.set(Result { try dispatcher.execute({ await onMainActor() }, timeout: .milliseconds(200)) })
            done.signal()
        }
        #expect(waitOrFail(done, "the main thread's blocking call to return"))
        #expect(throws: AsyncWorkerError.timedOut) { try outcome.get()?.get() }
        // Once the main thread is free, the same hop completes.
        #expect(watchdog { try dispatcher.execute({ await onMainActor() }, timeout: .seconds(30)) } == 7)
    }

    @Test("re-entrancy: an operation may fire-and-forget on its own worker and await the result")
    func reentrantSubmission() {
        let worker = ThreadWorker(name: "reenter")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let value = watchdog {
            try dispatcher.execute { () async throws -> Int in
                let inner = dispatcher.executeAsync { 20 }
                let other = worker.submit { 22 }
                return try await inner.value + other.value
            }
        }
        #expect(value == 42)
    }

    @Test("onComplete handlers that submit more work and handlers that are slow do not lose anything")
    func handlersThatSubmitAndStall() {
        let worker = ThreadWorker(name: "handlers")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let chained = Counter()
        let finished = DispatchSemaphore(value: 0)
        let count = 200
        for index in 0..<count {
            let future = worker.submit { index }
            future.onComplete { result in
                // Slow: burn a little CPU on the worker's thread.
                var spin = 0
                for step in 0..<2_000 { spin &+= step }
                // Submits more work from the worker's thread (allowed: it does not block).
                let next = worker.submit { (try? result.get()).map { $0 + spin - spin } ?? -1 }
                next.onComplete { nextResult in
                    if (try? nextResult.get()) == index { chained.increment() }
                    finished.signal()
                }
            }
        }
        for _ in 0..<count { waitOrFail(finished, "chained handler") }
        #expect(chained.count == count)
    }

    @Test("a throwing handler-free operation mix: errors of every type pass through untouched")
    func errorTypesPassThrough() {
        let worker = ThreadWorker(name: "errors")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        struct Custom: Error { let payload: [String] }
        enum Kind: Error {
            case a
            case b(Int)
        }
        let custom = withWatchdog { try dispatcher.execute { () throws -> Int in throw Custom(payload: ["x", "y"]) } }
        if case .failure(let error as Custom)? = custom {
            #expect(error.payload == ["x", "y"])
        } else {
            Issue.record("expected Custom, got \(String(describing: custom))")
        }
        let kind = withWatchdog { try dispatcher.execute { () throws -> Int in throw Kind.b(3) } }
        if case .failure(Kind.b(let code))? = kind { #expect(code == 3) } else { Issue.record("expected Kind.b") }
        let cancellation = withWatchdog { try dispatcher.execute { () throws -> Int in throw CancellationError() } }
        #expect(throws: CancellationError.self) { try cancellation?.get() }
    }

    @Test("a worker used for 100k tasks and shut down leaves no thread behind")
    func threadCountRestored() {
        // Other tests start and stop threads in parallel, so the process-wide count moves on its own;
        // what this worker owns is its one named thread. (The soak driver records the global count.)
        let worker = ThreadWorker(name: "leak-check")
        let dispatcher = TaskDispatcher(worker: worker)
        #expect(watchdog { try dispatcher.execute { currentThreadName() } } == "leak-check")
        #expect(threadNames().contains("leak-check"))
        let futures = (0..<100_000).map { index in dispatcher.executeAsync { index } }
        let sum = watchdog(.seconds(120)) { try futures.reduce(0) { $0 &+ (try $1.result()) } }
        #expect(sum == 100_000 * 99_999 / 2)
        let report = worker.shutdown(timeout: .seconds(10))
        #expect(report.isClean)
        #expect(worker.registry.pendingCount == 0)
        // Joined: pthread_join returns when the kernel clears the thread id, a moment before the
        // thread's /proc entry goes, so give the OS that moment (bounded; there is no event to wait on).
        #expect(eventually("the worker's thread to leave /proc") { !threadNames().contains("leak-check") })
    }
}

func threadNames() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap { tid in
        (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
