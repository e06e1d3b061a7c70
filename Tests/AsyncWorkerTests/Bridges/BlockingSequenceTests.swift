import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

/// An endless sequence 0, 1, 2, … that reports every element the producer pulls from it.
struct InstrumentedCounter: AsyncSequence, Sendable {
    typealias Element = Int
    typealias Failure = Never

    let pulled: Counter
    let pulls: DispatchSemaphore

    struct AsyncIterator: AsyncIteratorProtocol {
        let pulled: Counter
        let pulls: DispatchSemaphore
        var current = 0

        mutating func next() async -> Int? {
            defer { current += 1 }
            pulled.increment()
            pulls.signal()
            return current
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pulled: pulled, pulls: pulls) }
}

/// Yields 0..<count, then waits in `next()` until its task is cancelled (signalling `stalled`, then
/// `cancelled`) and ends.
struct StallingSequence: AsyncSequence, Sendable {
    typealias Element = Int
    typealias Failure = Never

    let count: Int
    let stalled: DispatchSemaphore
    let cancelled: DispatchSemaphore

    struct AsyncIterator: AsyncIteratorProtocol {
        let sequence: StallingSequence
        var current = 0

        mutating func next() async -> Int? {
            if current < sequence.count {
                defer { current += 1 }
                return current
            }
            sequence.stalled.signal()
            await waitForCancellation()
            sequence.cancelled.signal()
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sequence: self) }
}

extension Bridges {
    @Suite("Blocking iteration over an AsyncSequence")
    struct BlockingSequenceTests {
        @Test("a for-in loop yields every element, in order")
        func yieldsAllInOrder() {
            let worker = ThreadWorker(name: "seq-order")
            let stream = AsyncStream<Int> { continuation in
                for value in 0..<500 { continuation.yield(value) }
                continuation.finish()
            }
            let values = watchdog { () throws -> [Int] in
                var values: [Int] = []
                for value in try stream.blocking(prefetch: 8, on: worker) { values.append(value) }
                return values
            }
            #expect(values == Array(0..<500))
            #expect(worker.shutdown(timeout: .seconds(10)).isClean)
        }

        @Test("the producer is never more than `prefetch` elements ahead of the consumer")
        func prefetchBound() {
            let worker = ThreadWorker(name: "seq-bound")
            let pulled = Counter()
            let pulls = DispatchSemaphore(value: 0)
            let prefetch = 4
            let sequence = InstrumentedCounter(pulled: pulled, pulls: pulls)
            watchdog {
                var iterator = try sequence.makeBlockingIterator(prefetch: prefetch, on: worker)
                // Nothing consumed: the producer fills the buffer, then stops.
                for _ in 0..<prefetch { waitOrFail(pulls, "the producer to prefetch") }
                #expect(pulls.wait(timeout: .now() + 0.2) == .timedOut)
                #expect(pulled.count == prefetch)
                // Each element consumed lets exactly one more be fetched.
                for consumed in 1...20 {
                    #expect(try iterator.next() == consumed - 1)
                    waitOrFail(pulls, "the producer to refill one slot")
                    #expect(pulled.count <= consumed + prefetch)
                }
                #expect(pulls.wait(timeout: .now() + 0.1) == .timedOut)
                #expect(pulled.count == 20 + prefetch)
            }
            worker.shutdown(timeout: .seconds(10))
        }

        @Test("breaking out of the loop cancels the producer waiting in the base sequence")
        func breakCancelsProducer() {
            let worker = ThreadWorker(name: "seq-break")
            let stalled = DispatchSemaphore(value: 0)
            let cancelled = DispatchSemaphore(value: 0)
            let sequence = StallingSequence(count: 2, stalled: stalled, cancelled: cancelled)
            let seen = watchdog { () throws -> [Int] in
                var seen: [Int] = []
                for value in try sequence.blocking(prefetch: 4, on: worker) {
                    seen.append(value)
                    // The producer is now inside the base's next(), waiting for an element that never comes.
                    waitOrFail(stalled, "the producer to wait in the base sequence")
                    break
                }
                return seen
            }
            #expect(seen == [0])
            waitOrFail(cancelled, "the producer task to be cancelled")
            let report = worker.shutdown(timeout: .seconds(10))
            #expect(report.abandonedTasks == 0)
            #expect(report.isClean)
        }

        @Test("breaking out while the buffer is full stops the producer without another pull")
        func breakStopsWaitingProducer() {
            let worker = ThreadWorker(name: "seq-full")
            let pulled = Counter()
            let pulls = DispatchSemaphore(value: 0)
            let sequence = InstrumentedCounter(pulled: pulled, pulls: pulls)
            watchdog {
                for value in try sequence.blocking(prefetch: 1, on: worker) {
                    #expect(value == 0)
                    // Element 1 fills the one slot; the producer waits for room.
                    waitOrFail(pulls, "the first pull")
                    waitOrFail(pulls, "the producer to refill the buffer")
                    break
                }
            }
            // The producer ended (else shutdown would abandon it after the timeout) and pulled no more.
            let report = worker.shutdown(timeout: .seconds(10))
            #expect(report.abandonedTasks == 0)
            #expect(pulled.count == 2)
        }

        @Test("many iterators dropped at random points leave no producer behind")
        func droppedIteratorsLeaveNoProducer() {
            let worker = ThreadWorker(name: "seq-drop")
            let pulled = Counter()
            let sequence = InstrumentedCounter(pulled: pulled, pulls: DispatchSemaphore(value: 0))
            watchdog {
                for round in 0..<200 {
                    var iterator = try sequence.makeBlockingIterator(prefetch: 1 + round % 5, on: worker)
                    for expected in 0..<(round % 7) { #expect(try iterator.next() == expected) }
                }
            }
            // Every producer ended (cancelled or stopped at a full buffer): nothing left to abandon.
            let report = worker.shutdown(timeout: .seconds(10))
            #expect(report.abandonedTasks == 0)
            #expect(report.isClean)
        }

        @Test("the base sequence's error surfaces on the iterating thread, after the elements before it")
        func errorsSurface() {
            let worker = ThreadWorker(name: "seq-error")
            let stream = AsyncThrowingStream<Int, any Error> { continuation in
                for value in 0..<3 { continuation.yield(value) }
                continuation.finish(throwing: LegacyError(code: 9))
            }
            watchdog {
                var iterator = try stream.makeBlockingIterator(prefetch: 16, on: worker)
                var values: [Int] = []
                #expect(throws: LegacyError(code: 9)) {
                    while let value = try iterator.next() { values.append(value) }
                }
                #expect(values == [0, 1, 2])
                // Thrown once; the iterator is then finished.
                #expect(try iterator.next() == nil)
            }
            worker.shutdown(timeout: .seconds(10))
        }

        @Test("on the worker's own thread it throws wouldDeadlock instead of hanging")
        func wouldDeadlockOnWorkerThread() {
            let worker = ThreadWorker(name: "seq-self")
            let stream = AsyncStream<Int> { continuation in
                continuation.yield(1)
                continuation.finish()
            }
            let outcome = watchdog {
                try worker.submit { () -> [String] in
                    var refused: [String] = []
                    do { _ = try stream.blocking(on: worker) } catch AsyncWorkerError.wouldDeadlock {
                        refused.append("blocking")
                    } catch {}
                    do { _ = try stream.makeBlockingIterator(on: worker) } catch AsyncWorkerError.wouldDeadlock {
                        refused.append("iterator")
                    } catch {}
                    return refused
                }.result(timeout: watchdogLimit)
            }
            #expect(outcome == ["blocking", "iterator"])
            #expect(worker.shutdown(timeout: .seconds(10)).isClean)
        }

        @Test("an iterator used on the worker's thread with nothing buffered throws wouldDeadlock")
        func iteratorMovedToWorkerThread() {
            let worker = ThreadWorker(name: "seq-moved")
            let silent = AsyncStream<Int> { _ in }  // never yields, never ends
            let outcome = withWatchdog { () throws -> Int? in
                let box = IteratorBox(try silent.makeBlockingIterator(on: worker))
                return try worker.submit { () throws -> Int? in try box.iterator.next() }.result(timeout: watchdogLimit)
            }
            #expect(throws: AsyncWorkerError.wouldDeadlock) { try outcome?.get() }
            // The iterator is gone, so its producer was cancelled: nothing is left to abandon.
            #expect(worker.shutdown(timeout: .seconds(10)).abandonedTasks == 0)
        }

        @Test("next(timeout:) throws timedOut at the deadline and loses nothing: later calls get every element")
        func nextWithTimeout() {
            let worker = ThreadWorker(name: "seq-timeout")
            let (stream, continuation) = AsyncStream<Int>.makeStream()
            watchdog {
                var iterator = try stream.makeBlockingIterator(prefetch: 4, on: worker)
                let start = ContinuousClock.now
                #expect(throws: AsyncWorkerError.timedOut) { try iterator.next(timeout: .milliseconds(30)) }
                #expect(ContinuousClock.now - start >= .milliseconds(30))
                // Nothing is buffered: a zero or negative timeout times out at once.
                #expect(throws: AsyncWorkerError.timedOut) { try iterator.next(timeout: .zero) }
                #expect(throws: AsyncWorkerError.timedOut) { try iterator.next(timeout: .seconds(-1)) }

                continuation.yield(1)
                #expect(try iterator.next(timeout: watchdogLimit) == 1)
                continuation.yield(2)
                // A zero timeout is a poll: once the producer has fetched 2, it is returned.
                var polled: Int?
                eventually("the producer fetches 2") {
                    polled = try? iterator.next(timeout: .zero)
                    return polled != nil
                }
                #expect(polled == 2)
                continuation.yield(3)
                continuation.finish()
                #expect(try iterator.next(timeout: .seconds(Int64.max)) == 3)  // huge: no timeout, no trap
                #expect(try iterator.next(timeout: watchdogLimit) == nil)
            }
            #expect(worker.shutdown(timeout: .seconds(10)).isClean)
        }

        @Test("next(timeout:) on the worker's thread with nothing buffered throws wouldDeadlock, even with zero")
        func nextWithTimeoutOnWorkerThread() {
            let worker = ThreadWorker(name: "seq-timeout-self")
            let silent = AsyncStream<Int> { _ in }  // never yields, never ends
            let outcome = withWatchdog { () throws -> [String] in
                let box = IteratorBox(try silent.makeBlockingIterator(on: worker))
                return try worker.submit { () -> [String] in
                    var refused: [String] = []
                    for (label, timeout) in [("zero", Duration.zero), ("five seconds", .seconds(5))] {
                        do { _ = try box.iterator.next(timeout: timeout) } catch AsyncWorkerError.wouldDeadlock {
                            refused.append(label)
                        } catch {}
                    }
                    return refused
                }.result(timeout: watchdogLimit)
            }
            #expect((try? outcome?.get()) == ["zero", "five seconds"])
            #expect(worker.shutdown(timeout: .seconds(10)).abandonedTasks == 0)
        }

        @Test("when the worker shuts down mid-iteration, fetched elements come first, then shutDown")
        func workerShutdownMidIteration() {
            let worker = ThreadWorker(name: "seq-stop")
            let pulls = DispatchSemaphore(value: 0)
            let sequence = InstrumentedCounter(pulled: Counter(), pulls: pulls)
            watchdog {
                var iterator = try sequence.makeBlockingIterator(prefetch: 4, on: worker)
                for _ in 0..<4 { waitOrFail(pulls, "the producer to fill the buffer") }
                // The producer now waits for a free slot; shutdown abandons it.
                let report = worker.shutdown(timeout: .milliseconds(50))
                #expect(report.abandonedTasks == 1)
                var values: [Int] = []
                #expect(throws: AsyncWorkerError.shutDown) {
                    while let value = try iterator.next() { values.append(value) }
                }
                #expect(values == [0, 1, 2, 3])
                #expect(try iterator.next() == nil)
            }
        }

        @Test("iterating with a worker that is already shut down throws shutDown; the for-in loop just ends")
        func shutDownWorker() {
            let worker = ThreadWorker(name: "seq-dead")
            worker.shutdown(timeout: .seconds(10))
            let stream = AsyncStream<Int> { continuation in
                continuation.yield(1)
                continuation.finish()
            }
            watchdog {
                var iterator = try stream.makeBlockingIterator(on: worker)
                #expect(throws: AsyncWorkerError.shutDown) { try iterator.next() }
                #expect(Array(try stream.blocking(on: worker)) == [])
            }
        }

        @Test("by default the producer runs on the shared worker")
        func sharedWorkerByDefault() {
            let stream = AsyncStream<String> { continuation in
                continuation.yield("a")
                continuation.yield("b")
                continuation.finish()
            }
            let calls = Counter()
            let names = AsyncStream<String>(unfolding: {
                calls.increment() == 1 ? (currentThreadName() ?? "unnamed") : nil
            })
            #expect(watchdog { Array(try stream.blocking()) } == ["a", "b"])
            #expect(watchdog { Array(try names.blocking()) } == ["AsyncWorker"])
        }
    }
}

/// Moves an iterator to another thread, on purpose, to test misuse.
private final class IteratorBox<Base: AsyncSequence & Sendable>: @unchecked Sendable where Base.Element: Sendable {
    // @unchecked: no lock; the test uses `iterator` on one thread at a time (the worker's, after the
    // submitting thread handed it over).
    var iterator: BlockingIterator<Base>
    init(_ iterator: BlockingIterator<Base>) { self.iterator = iterator }
}
