import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

extension Bridges {
    @Suite("runSyncTask and BlockingThreadPool: blocking work off the cooperative pool")
    struct BlockingThreadPoolTests {
        @Test("work runs on a named pool thread and its value is returned")
        func runsOnNamedThread() {
            let pool = BlockingThreadPool(name: "blk", size: 2)
            let name = awaitWithWatchdog { try await pool.run { currentThreadName() } }
            #expect(name == "blk-0")
            #expect(pool.storage.startedThreadCount == 1)
            #expect(pool.shutdown(timeout: .seconds(10)).isClean)
        }

        @Test("shutdown takes a TimeInterval too: NaN does not wait, and a later call returns the first report")
        func timeIntervalShutdown() {
            let pool = BlockingThreadPool(name: "ti-pool", size: 1)
            #expect(awaitWithWatchdog { try await pool.run { 7 } } == 7)
            let report = pool.shutdown(timeout: TimeInterval.nan)
            #expect(report.threadExited)
            #expect(!report.wasAlreadyShutDown)
            #expect(pool.shutdown(timeout: 5.0).wasAlreadyShutDown)
        }

        @Test("thread names keep the index and fit in the bytes the OS keeps (15 on Linux, 63 on Darwin)")
        func threadNames() {
            #expect(BlockingPoolStorage.threadName("AW-blocking", index: 3) == "AW-blocking-3")
            #if os(Linux)
            #expect(BlockingPoolStorage.threadName("a-very-long-pool-name", index: 12) == "a-very-long--12")
            #expect(BlockingPoolStorage.threadName("ééééééé", index: 1) == "éééééé-1")  // 12 + 2 bytes
            #endif
            #expect(
                BlockingPoolStorage.threadName(String(repeating: "x", count: 80), index: 7).utf8.count
                    == OSThread.maximumNameBytes
            )
            let pool = BlockingThreadPool(name: "a-very-long-pool-name", size: 1)
            let expected = BlockingPoolStorage.threadName("a-very-long-pool-name", index: 0)
            #expect(awaitWithWatchdog { try await pool.run { currentThreadName() } } == expected)
            pool.shutdown(timeout: .seconds(10))
        }

        @Test("with N threads, job N+1 starts only after one of the first N finishes")
        func sizeIsRespected() {
            let size = 3
            let pool = BlockingThreadPool(name: "bounded", size: size)
            let started = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let tracker = ConcurrencyGauge()
            let calls = (0...size).map { index in
                Spawned {
                    try await pool.run { () -> Int in
                        tracker.enter()
                        started.signal()
                        release.wait()
                        tracker.leave()
                        return index
                    }
                }
            }
            for _ in 0..<size { waitOrFail(started, "one of the first \(size) jobs to start") }
            // The (N+1)th must not start while N hold the threads (a short wait proves it does not).
            #expect(started.wait(timeout: .now() + 0.2) == .timedOut)
            #expect(tracker.current == size)
            #expect(pool.storage.queuedJobCount == 1)
            release.signal()
            waitOrFail(started, "the queued job to start after one finished")
            for _ in 0..<size { release.signal() }
            let values = calls.map { try? $0.outcome()?.get() }
            #expect(Set(values.compactMap { $0 }) == Set(0...size))
            #expect(tracker.peak == size)
            #expect(pool.storage.startedThreadCount == size)
            #expect(pool.shutdown(timeout: .seconds(10)).isClean)
        }

        @Test("errors thrown by the work reach the awaiting task unchanged")
        func errorsPassThrough() {
            let pool = BlockingThreadPool(name: "errors", size: 1)
            let outcome = Spawned { try await pool.run { () throws -> Int in throw LegacyError(code: 7) } }.outcome()
            #expect(throws: LegacyError(code: 7)) { try outcome?.get() }
            // An AsyncWorkerError thrown by the work is not mistaken for the pool's own.
            let own = Spawned { try await pool.run { () throws -> Int in throw AsyncWorkerError.timedOut } }.outcome()
            #expect(throws: AsyncWorkerError.timedOut) { try own?.get() }
            pool.shutdown(timeout: .seconds(10))
        }

        @Test("cancelling a queued job removes it: the work never runs and the await throws CancellationError")
        func cancelWhileQueued() {
            let pool = BlockingThreadPool(name: "cancel", size: 1)
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let holder = Spawned {
                try await pool.run { () -> String in
                    holding.signal()
                    release.wait()
                    return "held"
                }
            }
            waitOrFail(holding, "the pool's only thread to be held")
            let ran = Counter()
            let queued = Spawned { try await pool.run { ran.increment() } }
            eventually("the job is queued") { pool.storage.queuedJobCount == 1 }
            queued.cancel()
            #expect(throws: CancellationError.self) { try queued.outcome()?.get() }
            #expect(pool.storage.queuedJobCount == 0)
            release.signal()
            #expect((try? holder.outcome()?.get()) == "held")
            // The thread is free again and runs the next job; the cancelled one never ran.
            #expect(awaitWithWatchdog { try await pool.run { 5 } } == 5)
            #expect(ran.count == 0)
            #expect(pool.shutdown(timeout: .seconds(10)).isClean)
        }

        @Test("racing cancellation: every call either runs its work exactly once or throws CancellationError")
        func cancellationRace() {
            let pool = BlockingThreadPool(name: "race", size: 2)
            let ran = Counter()
            let calls = (0..<200).map { index in Spawned { try await pool.run { () -> Int in ran.increment() } } }
            for (index, call) in calls.enumerated() where index % 2 == 0 { call.cancel() }
            var completed = 0
            var cancelled = 0
            for (index, call) in calls.enumerated() {
                switch call.outcome() {
                case .success?: completed += 1
                case .failure(let error)? where error is CancellationError && index % 2 == 0: cancelled += 1
                case .failure(let error)?: Issue.record("call \(index) failed with \(error)")
                case nil: break
                }
            }
            #expect(completed + cancelled == 200)
            #expect(ran.count == completed)
            #expect(completed >= 100)
            #expect(pool.shutdown(timeout: .seconds(10)).isClean)
        }

        @Test("a task cancelled before it calls run never queues its work")
        func cancelledBeforeCall() {
            let pool = BlockingThreadPool(name: "precancel", size: 1)
            let ran = Counter()
            let outcome = Spawned { () async throws -> Int in
                withUnsafeCurrentTask { $0?.cancel() }
                return try await pool.run { ran.increment() }
            }.outcome()
            #expect(throws: CancellationError.self) { try outcome?.get() }
            #expect(ran.count == 0)
            #expect(pool.storage.startedThreadCount == 0)
            pool.shutdown(timeout: .seconds(10))
        }

        @Test("work cancelled while running runs to the end and its value is returned")
        func cancelWhileRunning() {
            let pool = BlockingThreadPool(name: "running", size: 1)
            let running = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let call = Spawned { () async throws -> (Int, Bool) in
                let value = try await pool.run { () -> Int in
                    running.signal()
                    release.wait()
                    return 42
                }
                return (value, Task.isCancelled)
            }
            waitOrFail(running, "the work to start")
            call.cancel()
            release.signal()
            let outcome = try? call.outcome()?.get()
            #expect(outcome?.0 == 42)
            #expect(outcome?.1 == true)
            pool.shutdown(timeout: .seconds(10))
        }

        @Test("after shutdown, run throws shutDown without running the work")
        func rejectsAfterShutdown() {
            let pool = BlockingThreadPool(name: "closed", size: 2)
            #expect(pool.isRunning)
            let report = pool.shutdown(timeout: .seconds(10))
            #expect(report.isClean)
            #expect(report.drainedTasks == 0)
            #expect(!pool.isRunning)
            let ran = Counter()
            let outcome = Spawned { try await pool.run { ran.increment() } }.outcome()
            #expect(throws: AsyncWorkerError.shutDown) { try outcome?.get() }
            #expect(ran.count == 0)
            let again = pool.shutdown(timeout: .seconds(10))
            #expect(again.wasAlreadyShutDown)
            #expect(again.isClean)
        }

        @Test("shutdown drains queued and running jobs that finish within the timeout")
        func shutdownDrains() {
            let pool = BlockingThreadPool(name: "drain", size: 1)
            let started = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let calls = (0..<3).map { index in
                Spawned {
                    try await pool.run { () -> Int in
                        started.signal()
                        release.wait()
                        return index
                    }
                }
            }
            waitOrFail(started, "the first job to start")
            eventually("two jobs are queued") { pool.storage.queuedJobCount == 2 }
            let reportBox = ResultBox<ShutdownReport>()
            let shutdownReturned = DispatchSemaphore(value: 0)
            Thread {
                reportBox.set(.success(pool.shutdown(timeout: .seconds(30))))
                shutdownReturned.signal()
            }.start()
            eventually("shutdown has begun") { !pool.isRunning }
            for _ in 0..<3 { release.signal() }
            waitOrFail(shutdownReturned, "shutdown to return")
            let report = try? reportBox.get()?.get()
            #expect(report?.drainedTasks == 3)
            #expect(report?.abandonedTasks == 0)
            #expect(report?.threadExited == true)
            #expect(calls.map { try? $0.outcome()?.get() } == [0, 1, 2])
        }

        @Test("at the shutdown deadline queued jobs never run and every caller gets shutDown")
        func shutdownAbandonsAtDeadline() {
            let pool = BlockingThreadPool(name: "deadline", size: 1)
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let finished = DispatchSemaphore(value: 0)
            let holder = Spawned {
                try await pool.run { () -> Int in
                    holding.signal()
                    release.wait()
                    finished.signal()
                    return 1
                }
            }
            waitOrFail(holding, "the only thread to be held")
            let ran = Counter()
            let queued = (0..<2).map { _ in Spawned { try await pool.run { ran.increment() } } }
            eventually("two jobs are queued") { pool.storage.queuedJobCount == 2 }
            let start = ContinuousClock.now
            let report = watchdog { pool.shutdown(timeout: .milliseconds(50)) }
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(report?.abandonedTasks == 3)
            #expect(report?.drainedTasks == 0)
            #expect(report?.threadExited == false)
            // Nobody is left waiting, although the held job still runs.
            #expect(throws: AsyncWorkerError.shutDown) { try holder.outcome()?.get() }
            for call in queued {
                #expect(throws: AsyncWorkerError.shutDown) { try call.outcome()?.get() }
            }
            release.signal()
            waitOrFail(finished, "the held job to end")
            #expect(ran.count == 0)
        }

        @Test("shutdown called from a pool thread does not wait for itself")
        func shutdownFromPoolThread() {
            let pool = BlockingThreadPool(name: "self-stop", size: 1)
            let call = Spawned { try await pool.run { pool.shutdown(timeout: .seconds(30)) } }
            // The calling job itself is abandoned: its caller gets shutDown, the report is dropped.
            #expect(throws: AsyncWorkerError.shutDown) { try call.outcome()?.get() }
            #expect(!pool.isRunning)
            let report = watchdog { pool.shutdown(timeout: .seconds(10)) }
            #expect(report?.wasAlreadyShutDown == true)
            #expect(report?.abandonedTasks == 1)
            #expect(report?.threadExited == false)
        }

        @Test("concurrent shutdown calls: one does the work, all return its report")
        func concurrentShutdown() {
            let pool = BlockingThreadPool(name: "racing", size: 2)
            #expect(awaitWithWatchdog { try await pool.run { 1 } } == 1)
            let reports = Collector<ShutdownReport>()
            onRacingThreads(4) { _ in reports.append(pool.shutdown(timeout: .seconds(10))) }
            #expect(reports.count == 4)
            #expect(reports.all.filter { !$0.wasAlreadyShutDown }.count == 1)
            #expect(reports.all.allSatisfy { $0.isClean })
        }
    }

    /// The only tests that use the shared pool; none shuts it down.
    @Suite("runSyncTask on the shared pool", .serialized)
    struct RunSyncTaskTests {
        @Test("runSyncTask runs on the shared pool and returns the value")
        func sharedPool() {
            let name = awaitWithWatchdog { try await runSyncTask { currentThreadName() } }
            #expect((name ?? nil)?.hasPrefix("AW-blocking-") == true)
            #expect(BlockingThreadPool.shared.size == BlockingThreadPool.defaultSize)
            #expect(BlockingThreadPool.defaultSize >= 4 && BlockingThreadPool.defaultSize <= 16)
        }

        @Test("blocked work does not starve the cooperative pool")
        func doesNotStarveCooperativePool() async throws {
            // More blocked calls than the cooperative pool has threads (one per core), made from tasks on
            // that pool: were the calling threads blocked, the later calls could never start.
            let blockedCount = min(BlockingThreadPool.defaultSize, ProcessInfo.processInfo.activeProcessorCount + 2)
            let (events, eventSink) = AsyncStream.makeStream(of: Int.self)
            let release = DispatchSemaphore(value: 0)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<blockedCount {
                    group.addTask {
                        try await runSyncTask { () -> Int in
                            eventSink.yield(index)
                            release.wait()
                            return index
                        }
                    }
                }
                var startedCount = 0
                for await _ in events {
                    startedCount += 1
                    if startedCount == blockedCount { break }
                }
                #expect(startedCount == blockedCount)
                for _ in 0..<blockedCount { release.signal() }
                var values: [Int] = []
                for try await value in group { values.append(value) }
                #expect(values.sorted() == Array(0..<blockedCount))
            }
        }
    }
}
