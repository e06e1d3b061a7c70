import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

enum TraceContext {
    @TaskLocal static var requestID = "none"
}

actor PinnedCounter {
    let worker: ThreadWorker
    var value = 0
    init(worker: ThreadWorker) { self.worker = worker }
    nonisolated var unownedExecutor: UnownedSerialExecutor { worker.asUnownedSerialExecutor() }
    func increment() -> (Int, Bool) {
        value += 1
        return (value, worker.isCurrentThread)
    }
}

nonisolated func threadNameFromNonisolatedCallee() async -> String? {
    await Task.yield()
    return currentThreadName()
}

@Suite("ThreadWorker: one dedicated thread hosting Swift tasks")
struct ThreadWorkerTests {
    @Test("start waits until the thread runs under its name")
    func startAndName() throws {
        let worker = ThreadWorker(name: "named-worker")
        defer { worker.shutdown(timeout: .seconds(5)) }
        #expect(!worker.isRunning)
        try worker.start()
        #expect(worker.isRunning)
        try worker.start()  // again: nothing happens
        #expect(watchdog { try worker.submit { currentThreadName() }.result() } == "named-worker")
    }

    @Test("a name longer than Linux keeps is cut to 15 bytes at a character boundary")
    func longNames() throws {
        #expect(ThreadName.osName(for: "a-very-long-worker-name", maxBytes: 15) == "a-very-long-wor")
        #expect(ThreadName.osName(for: "ééééééééé", maxBytes: 15) == "ééééééé")  // 2 bytes each: 7 fit
        #expect(ThreadName.osName(for: "short") == "short")
        #if os(Linux)
        #expect(OSThread.maximumNameBytes == 15)
        #endif
        let longName = "a-very-long-worker-name-that-no-platform-keeps-whole-" + String(repeating: "x", count: 20)
        let worker = ThreadWorker(name: longName)
        defer { worker.shutdown(timeout: .seconds(5)) }
        #expect(worker.name == longName)
        let osName = watchdog { try worker.submit { currentThreadName() }.result() }
        #expect(osName == ThreadName.osName(for: longName))
        #expect(osName??.utf8.count == OSThread.maximumNameBytes)
    }

    @Test("submitting to a worker that was not started starts it")
    func submitStarts() {
        let worker = ThreadWorker(name: "lazy")
        defer { worker.shutdown(timeout: .seconds(5)) }
        #expect(!worker.isRunning)
        #expect(watchdog { try worker.submit { 1 + 1 }.result() } == 2)
        #expect(worker.isRunning)
    }

    @Test("the operation, its callees, async let and task-group children all run on the worker's thread")
    func everythingOnWorkerThread() {
        let worker = ThreadWorker(name: "where-am-i")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let observed = watchdog {
            try worker.submit { () async -> [Bool] in
                var onWorker = [worker.isCurrentThread]
                try? await Task.sleep(for: .milliseconds(1))
                onWorker.append(worker.isCurrentThread)
                onWorker.append(await threadNameFromNonisolatedCallee() == "where-am-i")
                async let child = { worker.isCurrentThread }()
                onWorker.append(await child)
                let group = await withTaskGroup(of: Bool.self) { group in
                    for _ in 0..<4 { group.addTask { worker.isCurrentThread } }
                    return await group.reduce(true) { $0 && $1 }
                }
                onWorker.append(group)
                return onWorker
            }.result()
        }
        #expect(observed == [true, true, true, true, true])
        #expect(!worker.isCurrentThread)
    }

    @Test("task-local values bound by the caller are visible in the operation")
    func taskLocals() {
        let worker = ThreadWorker(name: "task-locals")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let seen = watchdog {
            try TraceContext.$requestID.withValue("req-7") {
                try worker.submit { TraceContext.requestID }.result()
            }
        }
        #expect(seen == "req-7")
    }

    @Test("operations start in submission order")
    func fifoStart() {
        let worker = ThreadWorker(name: "fifo")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let order = Collector<Int>()
        let futures = (0..<500).map { index in worker.submit { order.append(index) } }
        for future in futures { _ = watchdog { try future.result() } }
        #expect(order.all == Array(0..<500))
    }

    @Test("an actor can use the worker as its serial executor")
    func pinnedActor() async {
        let worker = ThreadWorker(name: "actor-host")
        defer { worker.shutdown(timeout: .seconds(5)) }
        try? worker.start()
        let counter = PinnedCounter(worker: worker)
        var results: [(Int, Bool)] = []
        for _ in 0..<3 { results.append(await counter.increment()) }
        #expect(results.map(\.0) == [1, 2, 3])
        #expect(results.allSatisfy { $0.1 })
    }

    @Test("after shutdown, start throws shutDown and submissions fail with shutDown")
    func afterShutdown() throws {
        let worker = ThreadWorker(name: "done")
        try worker.start()
        worker.shutdown(timeout: .seconds(5))
        #expect(!worker.isRunning)
        #expect(throws: AsyncWorkerError.shutDown) { try worker.start() }
        let future = worker.submit { 1 }
        #expect(future.isDone)
        #expect(throws: AsyncWorkerError.shutDown) { try future.result() }
    }

    @Test("a worker that is dropped without shutdown lets its thread go")
    func dropWithoutShutdown() {
        weak var weakWorker: ThreadWorker?
        var thread: ExecutorThread?
        do {
            let worker = ThreadWorker(name: "dropped")
            weakWorker = worker
            thread = worker.thread
            #expect(watchdog { try worker.submit { 1 }.result() } == 1)
        }
        // Completed tasks release the worker; the last reference goes with this scope, but the
        // runtime may release a finished task slightly later, so wait for the thread to exit.
        let exited = thread.map { $0.join(until: Deadline.after(.seconds(30))) }
        #expect(weakWorker == nil)
        #expect(exited == true)
    }
}

actor PinnedLedger {
    let worker: ThreadWorker
    private var balance = 0
    private var inside = false
    private(set) var overlaps = 0
    init(worker: ThreadWorker) { self.worker = worker }
    nonisolated var unownedExecutor: UnownedSerialExecutor { worker.asUnownedSerialExecutor() }

    func deposit(_ amount: Int) async -> Bool {
        self.assertIsolated()
        if inside { overlaps += 1 }
        inside = true
        balance += amount
        inside = false
        await Task.yield()  // suspend inside the actor, then call another method of it
        let consistent = check()
        return consistent && worker.isCurrentThread
    }

    func check() -> Bool {
        self.assertIsolated()
        return balance >= 0
    }

    var total: Int { balance }
}

@Suite("ThreadWorker as an actor's serial executor")
struct PinnedActorTests {
    @Test("an actor pinned to the worker stays mutually exclusive under concurrent callers from the pool")
    func exclusiveUnderLoad() async {
        let worker = ThreadWorker(name: "actor-load")
        defer { worker.shutdown(timeout: .seconds(5)) }
        try? worker.start()
        let ledger = PinnedLedger(worker: worker)
        let allOnWorker = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    var ok = true
                    for _ in 0..<250 { ok = await ledger.deposit(1) && ok }
                    return ok
                }
            }
            return await group.reduce(true) { $0 && $1 }
        }
        #expect(allOnWorker)
        #expect(await ledger.total == 5_000)
        #expect(await ledger.overlaps == 0)
    }
}
