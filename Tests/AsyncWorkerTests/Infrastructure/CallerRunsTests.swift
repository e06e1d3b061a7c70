import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

/// A counter that records whether two jobs ever ran it at once. Deliberately unsynchronised: the worker's
/// serial execution must order every access (ThreadSanitizer in CI reports it if not).
final class ExclusiveCounter: @unchecked Sendable {
    // @unchecked: only jobs of one worker touch it, one at a time (what the tests check).
    var value = 0
    var inside = false
    var overlaps = 0

    func bump() {
        if inside { overlaps += 1 }
        inside = true
        value += 1
        inside = false
    }
}

@Suite("ThreadWorker(callerRunsWhenIdle:): a blocking caller runs its task's first job itself")
struct CallerRunsTests {
    @Test("a blocking call on an idle worker runs on the calling thread; fire-and-forget does not")
    func runsOnCallerWhenIdle() throws {
        let worker = ThreadWorker(name: "cr-idle", callerRunsWhenIdle: true)
        defer { worker.shutdown(timeout: .seconds(5)) }
        try worker.start()
        let dispatcher = TaskDispatcher(worker: worker)
        let threads = watchdog { () -> (caller: UInt, ran: UInt) in
            let caller = OSThread.currentID
            return (caller, try dispatcher.execute { OSThread.currentID })
        }
        #expect(threads?.ran == threads?.caller)
        #expect(watchdog { try dispatcher.executeAsync { currentThreadName() }.result() } == "cr-idle")
    }

    @Test("without the option a blocking call runs on the worker's thread")
    func defaultKeepsAffinity() throws {
        let worker = ThreadWorker(name: "cr-off")
        defer { worker.shutdown(timeout: .seconds(5)) }
        #expect(!worker.callerRunsWhenIdle)
        let dispatcher = TaskDispatcher(worker: worker)
        #expect(watchdog { try dispatcher.execute { currentThreadName() } } == "cr-off")
    }

    @Test("after its first suspension the task goes on on the worker's thread")
    func continuesOnWorker() throws {
        let worker = ThreadWorker(name: "cr-hop", callerRunsWhenIdle: true)
        defer { worker.shutdown(timeout: .seconds(5)) }
        try worker.start()
        let dispatcher = TaskDispatcher(worker: worker)
        let names = watchdog { () -> (before: UInt, after: String?, caller: UInt) in
            let caller = OSThread.currentID
            let (before, after) = try dispatcher.execute { () async -> (UInt, String?) in
                let before = OSThread.currentID
                try? await Task.sleep(for: .milliseconds(1))
                return (before, currentThreadName())
            }
            return (before, after, caller)
        }
        #expect(names?.before == names?.caller)
        #expect(names?.after == "cr-hop")
    }

    @Test("inside the job the caller counts as the worker's thread: isolation holds, a nested blocking call throws")
    func isolationAndNestedCall() throws {
        let worker = ThreadWorker(name: "cr-nest", callerRunsWhenIdle: true)
        defer { worker.shutdown(timeout: .seconds(5)) }
        try worker.start()
        let dispatcher = TaskDispatcher(worker: worker)
        let outcome = watchdog { () -> (ranHere: Bool, isCurrent: Bool, nested: String) in
            let caller = OSThread.currentID
            return try dispatcher.execute { () -> (Bool, Bool, String) in
                let nested: String
                do {
                    _ = try dispatcher.execute { 1 }
                    nested = "returned"
                } catch {
                    nested = "\(error)"
                }
                return (OSThread.currentID == caller, worker.isCurrentThread, nested)
            }
        }
        #expect(outcome?.ranHere == true)
        #expect(outcome?.isCurrent == true)
        #expect(outcome?.nested == "\(AsyncWorkerError.wouldDeadlock)")
        // Back on the caller, outside the job, the thread is no longer the worker's.
        #expect(watchdog { worker.isCurrentThread } == false)
    }

    @Test("with the worker busy, the call waits for the worker's thread as usual")
    func busyWorkerRunsIt() throws {
        let worker = ThreadWorker(name: "cr-busy", callerRunsWhenIdle: true)
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let blocker = dispatcher.executeAsync {
            entered.signal()
            release.wait()  // holds the worker's thread
        }
        #expect(waitOrFail(entered, "the blocker to start"))
        let name = ResultBox<String?>()
        let done = DispatchSemaphore(value: 0)
        Thread {
            name.set(Result { try dispatcher.execute(timeout: .seconds(30)) { currentThreadName() } })
            done.signal()
        }.start()
        // Released only once the call's task waits in the queue: it found the worker busy.
        #expect(eventually("the call's task to be queued") { worker.metrics().queueDepth >= 1 })
        release.signal()
        #expect(waitOrFail(done, "the blocking call"))
        #expect(try name.get()?.get() == "cr-busy")
        _ = watchdog { try blocker.result() }
    }

    @Test("callers and the worker's thread never run two jobs at once")
    func exclusive() throws {
        let worker = ThreadWorker(name: "cr-excl", callerRunsWhenIdle: true)
        defer { worker.shutdown(timeout: .seconds(5)) }
        let dispatcher = TaskDispatcher(worker: worker)
        let counter = ExclusiveCounter()
        let callers = 4
        let calls = 300
        let done = DispatchSemaphore(value: 0)
        for index in 0..<callers {
            Thread {
                for call in 0..<calls {
                    if (call + index) % 3 == 0 {
                        // Some work reaches the worker's thread: fire-and-forget, and jobs after a yield.
                        _ = dispatcher.executeAsync { counter.bump() }
                    }
                    _ = try? dispatcher.execute(timeout: .seconds(30)) { () async -> Void in
                        counter.bump()
                        if call % 5 == 0 {
                            await Task.yield()
                            counter.bump()
                        }
                    }
                }
                done.signal()
            }.start()
        }
        for _ in 0..<callers { #expect(waitOrFail(done, "the callers")) }
        // Every job, inline or on the thread, went through the worker's serial order.
        _ = watchdog { try dispatcher.execute { () } }
        let expected =
            callers * calls + callers * (calls / 5)
            + (0..<callers).map { index in
                (0..<calls).filter { ($0 + index) % 3 == 0 }.count
            }.reduce(0, +)
        #expect(eventually("every job to run") { watchdog { try dispatcher.execute { counter.value } } == expected })
        #expect(watchdog { try dispatcher.execute { counter.overlaps } } == 0)
    }

    @Test("the deadline still ends a wait once the task suspends")
    func deadlineAfterSuspension() throws {
        let worker = ThreadWorker(name: "cr-late", callerRunsWhenIdle: true)
        defer { worker.shutdown(timeout: .seconds(5)) }
        try worker.start()
        let dispatcher = TaskDispatcher(worker: worker)
        let outcome = withWatchdog {
            try dispatcher.execute(timeout: .milliseconds(100)) { await waitForCancellation() }
        }
        guard case .failure(let error)? = outcome else {
            Issue.record("expected a timeout, got \(String(describing: outcome))")
            return
        }
        #expect(error as? AsyncWorkerError == .timedOut)
    }
}
