import Foundation

/// A synchronous view of an `AsyncSequence` that never fails: `for element in sequence` blocks the
/// calling thread for each element, while a producer task on a worker fetches up to `prefetch` elements
/// ahead.
///
/// Create one with ``_Concurrency/AsyncSequence/blocking(prefetch:on:fileID:line:)``:
///
/// ```swift
/// for event in try events.blocking(prefetch: 16) {   // events: AsyncStream<Event>
///     handle(event)                                 // synchronous code
///     if event.isLast { break }                     // cancels the producer
/// }
/// ```
///
/// Each `for` loop (each `makeIterator()`) starts its own producer task on the worker, which iterates the
/// base sequence; leaving the loop early releases the iterator, which cancels that task.
///
/// - Important: `Sequence`'s iterator cannot throw, so a bridge failure ends the loop early, silently:
///   ``AsyncWorkerError/shutDown`` (the worker stopped mid-iteration) or
///   ``AsyncWorkerError/wouldDeadlock`` (the loop runs on the worker's own thread). Use
///   ``_Concurrency/AsyncSequence/makeBlockingIterator(prefetch:on:fileID:line:)`` and `try iterator.next()` when
///   you need to tell those apart from the real end.
public struct BlockingSequence<Base: AsyncSequence & Sendable>: Sequence, Sendable
where Base.Element: Sendable, Base.Failure == Never {
    @usableFromInline let base: Base
    @usableFromInline let prefetch: Int
    @usableFromInline let worker: any Worker
    /// Where the sequence was made: the producer tasks' site in stall reports.
    @usableFromInline let submission: Submission

    @usableFromInline
    init(base: Base, prefetch: Int, worker: any Worker, submission: Submission) {
        self.base = base
        self.prefetch = prefetch
        self.worker = worker
        self.submission = submission
    }

    /// Starts a producer task on the worker and returns an iterator over its elements.
    @inlinable
    public func makeIterator() -> Iterator {
        Iterator(inner: BlockingIterator(base: base, prefetch: prefetch, worker: worker, submission: submission))
    }

    /// Iterates a ``BlockingSequence``: each ``next()`` blocks the calling thread until the producer has
    /// an element (or the sequence ended). Releasing the iterator cancels the producer.
    public struct Iterator: IteratorProtocol {
        @usableFromInline var inner: BlockingIterator<Base>?

        @usableFromInline
        init(inner: BlockingIterator<Base>?) {
            self.inner = inner
        }

        /// The next element, blocking the calling thread until there is one; `nil` at the end, or after a
        /// bridge failure (see ``BlockingSequence``).
        @inlinable
        public mutating func next() -> Base.Element? {
            do {
                if let element = try inner?.next() { return element }
            } catch {
                // Failure == Never: only the bridge's own errors get here (documented: the loop ends).
            }
            inner = nil
            return nil
        }
    }
}

@available(*, unavailable)
extension BlockingSequence.Iterator: Sendable {}

/// Iterates an `AsyncSequence` from synchronous code with a throwing `next()`: blocks the calling thread
/// for each element, while a producer task on a worker fetches up to `prefetch` elements ahead.
///
/// Create one with ``_Concurrency/AsyncSequence/makeBlockingIterator(prefetch:on:fileID:line:)``:
///
/// ```swift
/// var lines = try url.lines.makeBlockingIterator(prefetch: 64)
/// while let line = try lines.next() {        // throws the sequence's own error, unchanged
///     print(line)
/// }
/// ```
///
/// - Threads: the producer task runs on the worker (the shared worker unless you pass one); its
///   `for try await` suspends when `prefetch` elements are waiting, so it is never more than `prefetch`
///   elements ahead of the consumer. ``next(fileID:line:)`` blocks only when no element is waiting.
/// - Cancellation: releasing the iterator (all its copies) cancels the producer task and drops the
///   elements not yet consumed; a base that honours cancellation stops at once.
/// - Shutdown: if the worker shuts down, the elements already fetched are still returned, then ``next(fileID:line:)``
///   throws ``AsyncWorkerError/shutDown``.
///
/// It is not an `IteratorProtocol` (whose `next()` cannot throw): drive it with `while let`. For a base
/// that never fails, ``BlockingSequence`` gives a plain `for` loop. Use an iterator on one thread at a time
/// (it is not `Sendable`).
public struct BlockingIterator<Base: AsyncSequence & Sendable> where Base.Element: Sendable {
    @usableFromInline let core: Core

    @inlinable
    init(base: Base, prefetch: Int, worker: any Worker, submission: Submission) {
        core = Core(base: base, capacity: Swift.max(1, prefetch), worker: worker, submission: submission)
    }

    /// The next element, blocking the calling thread until the producer has one.
    ///
    /// - Parameters:
    ///   - fileID: Where the call is made, for the blocking-in-task report; leave the default.
    ///   - line: The line of the call, likewise.
    /// - Returns: The next element, or `nil` once the sequence has ended (also after it threw: the error
    ///   is thrown once, later calls return `nil`).
    /// - Throws: The base sequence's own error, unchanged; ``AsyncWorkerError/shutDown`` if the worker
    ///   stopped before the end; ``AsyncWorkerError/wouldDeadlock`` if no element is waiting and this is
    ///   the worker's own thread; ``AsyncWorkerError/blockingInAsyncContext`` under the
    ///   ``BlockingInTaskPolicy/fail`` policy, when called from inside a Swift task.
    @inlinable
    public mutating func next(fileID: StaticString = #fileID, line: UInt = #line) throws -> Base.Element? {
        try core.buffer.next(
            worker: core.worker,
            until: .never,
            call: Submission(fileID: fileID, line: line, api: "BlockingIterator.next()")
        )
    }

    /// The next element, blocking the calling thread until the producer has one or `timeout` passes.
    ///
    /// When the timeout passes first it throws ``AsyncWorkerError/timedOut`` and nothing is lost: the
    /// producer goes on, and a later call returns the next element. An element already fetched is
    /// returned even with a timeout of zero or less (a poll); a huge timeout means no timeout.
    ///
    /// ```swift
    /// var lines = try socketLines.makeBlockingIterator()
    /// while let line = try lines.next(timeout: .seconds(30)) { handle(line) }   // throws .timedOut on silence
    /// ```
    ///
    /// - Parameters:
    ///   - timeout: How long to wait for an element; `nil` waits as long as it takes.
    ///   - fileID: Where the call is made, for the blocking-in-task report; leave the default.
    ///   - line: The line of the call, likewise.
    /// - Returns: As ``next(fileID:line:)``.
    /// - Throws: ``AsyncWorkerError/timedOut``, or what ``next(fileID:line:)`` throws.
    @inlinable
    public mutating func next(
        timeout: Duration?,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> Base.Element? {
        try core.buffer.next(
            worker: core.worker,
            until: Deadline.after(timeout),
            call: Submission(fileID: fileID, line: line, api: "BlockingIterator.next(timeout:)")
        )
    }

    /// ``next(timeout:fileID:line:)-(Duration?,_,_)`` with the timeout in seconds, for code that keeps
    /// `TimeInterval`s: NaN, zero or negative values poll; infinite or huge ones wait as long as it takes.
    public mutating func next(
        timeout seconds: TimeInterval,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> Base.Element? {
        try next(timeout: Deadline.duration(fromSeconds: seconds), fileID: fileID, line: line)
    }

    /// Owns the producer: releasing it (when the last iterator copy goes) cancels the producer task.
    @usableFromInline
    final class Core {
        @usableFromInline let buffer: PrefetchBuffer<Base.Element>
        @usableFromInline let worker: any Worker
        @usableFromInline let producer: TaskFuture<Void>

        @inlinable
        init(base: Base, capacity: Int, worker: any Worker, submission: Submission) {
            let buffer = PrefetchBuffer<Base.Element>(capacity: capacity)
            self.buffer = buffer
            self.worker = worker
            producer = worker.submit(
                { () async throws -> Void in
                    var iterator = base.makeAsyncIterator()
                    while await buffer.reserveSlot() {
                        guard let element = try await iterator.next() else { return }
                        buffer.deliver(element)
                    }
                },
                submission
            )
            // Runs after the last delivery (or at once, if the worker is shut down): the end, the base's
            // error, or the worker's .shutDown.
            producer.onComplete { result in buffer.finish(result) }
        }

        deinit {
            producer.cancel()
            buffer.close()
        }
    }
}

@available(*, unavailable)
extension BlockingIterator: Sendable {}

extension AsyncSequence where Self: Sendable, Element: Sendable, Failure == Never {
    /// A `Sequence` over this async sequence's elements for synchronous code: `for x in try s.blocking()`.
    ///
    /// Each loop starts a producer task on `worker` that fetches up to `prefetch` elements ahead; each
    /// step of the loop blocks the calling thread until an element is there; leaving the loop cancels the
    /// producer. See ``BlockingSequence`` for what happens on bridge failures (the loop ends), and
    /// ``makeBlockingIterator(prefetch:on:fileID:line:)`` for a throwing iterator.
    ///
    /// - Parameters:
    ///   - prefetch: How many elements the producer may fetch ahead of the loop (at least 1).
    ///   - worker: The worker that runs the producer; `nil` uses the shared worker of
    ///     ``runAsyncTask(_:timeout:fileID:line:)-(_,Duration?,_,_)``.
    ///   - fileID: Where the call is made: the producer's site in stall reports; leave the default.
    ///   - line: The line of the call, likewise.
    /// - Throws: ``AsyncWorkerError/wouldDeadlock`` if called on the worker's own thread.
    @inlinable
    public func blocking(
        prefetch: Int = 16,
        on worker: (any Worker)? = nil,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> BlockingSequence<Self> {
        let worker = worker ?? sharedDispatcher.worker
        if worker.isCurrentThread { throw AsyncWorkerError.wouldDeadlock }
        return BlockingSequence(
            base: self,
            prefetch: Swift.max(1, prefetch),
            worker: worker,
            submission: Submission(fileID: fileID, line: line, api: "blocking(prefetch:on:)")
        )
    }
}

extension AsyncSequence where Self: Sendable, Element: Sendable {
    /// An iterator over this async sequence for synchronous code, whose `try next()` blocks the calling
    /// thread for each element and throws the sequence's errors.
    ///
    /// A producer task starts at once on `worker` and fetches up to `prefetch` elements ahead; releasing
    /// the iterator cancels it. See ``BlockingIterator``.
    ///
    /// ```swift
    /// var iterator = try responses.makeBlockingIterator(prefetch: 4)
    /// while let response = try iterator.next() { print(response) }
    /// ```
    ///
    /// - Parameters:
    ///   - prefetch: How many elements the producer may fetch ahead of the consumer (at least 1).
    ///   - worker: The worker that runs the producer; `nil` uses the shared worker of
    ///     ``runAsyncTask(_:timeout:fileID:line:)-(_,Duration?,_,_)``.
    ///   - fileID: Where the call is made: the producer's site in stall reports; leave the default.
    ///   - line: The line of the call, likewise.
    /// - Throws: ``AsyncWorkerError/wouldDeadlock`` if called on the worker's own thread.
    @inlinable
    public func makeBlockingIterator(
        prefetch: Int = 16,
        on worker: (any Worker)? = nil,
        fileID: StaticString = #fileID,
        line: UInt = #line
    ) throws -> BlockingIterator<Self> {
        let worker = worker ?? sharedDispatcher.worker
        if worker.isCurrentThread { throw AsyncWorkerError.wouldDeadlock }
        return BlockingIterator(
            base: self,
            prefetch: prefetch,
            worker: worker,
            submission: Submission(fileID: fileID, line: line, api: "makeBlockingIterator(prefetch:on:)")
        )
    }
}

/// The bounded hand-off between a producer task and a blocked synchronous consumer.
///
/// The producer reserves a slot *before* it asks the base sequence for an element, so elements fetched
/// but not consumed never exceed `capacity`. A producer that finds no free slot suspends (a continuation);
/// a consumer that finds no element parks its thread (its ``Parker``). Decide under the lock, act after:
/// continuations are resumed and parkers unparked with the lock released.
@usableFromInline
final class PrefetchBuffer<Element: Sendable>: @unchecked Sendable {
    // @unchecked: every `var` below is read and written only while `lock` is held. Unchecked
    // exclusivity for the same reason (a dynamic check costs a thread-local lookup per access).
    @usableFromInline let lock = ConditionLock()
    @usableFromInline let capacity: Int
    @exclusivity(unchecked) @usableFromInline var elements = FIFO<Element>()
    /// Slots granted to the producer and not yet filled.
    @exclusivity(unchecked) @usableFromInline var reserved = 0
    @exclusivity(unchecked) @usableFromInline var waitingProducer: UnsafeContinuation<Bool, Never>?
    @exclusivity(unchecked) @usableFromInline var isProducerCancelled = false
    @exclusivity(unchecked) @usableFromInline var waitingConsumer: Parker?
    /// The consumer is gone: the producer must stop.
    @exclusivity(unchecked) @usableFromInline var isClosed = false
    /// How the producer ended (`nil` while it runs).
    @exclusivity(unchecked) @usableFromInline var end: Result<Void, any Error>?
    @exclusivity(unchecked) @usableFromInline var isEndReported = false

    @usableFromInline
    init(capacity: Int) {
        self.capacity = capacity
        elements.reserveCapacity(min(capacity, 1024))
    }

    // MARK: Producer side (a task on the worker)

    /// Suspends until a slot is free; `false` if the consumer is gone or the task was cancelled.
    @inlinable
    func reserveSlot() async -> Bool {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Bool, Never>) in
                lock.lock()
                if isClosed || isProducerCancelled {
                    lock.unlock()
                    continuation.resume(returning: false)
                } else if elements.count + reserved < capacity {
                    reserved += 1
                    lock.unlock()
                    continuation.resume(returning: true)
                } else {
                    waitingProducer = continuation
                    lock.unlock()
                }
            }
        } onCancel: {
            lock.lock()
            isProducerCancelled = true
            let producer = waitingProducer
            waitingProducer = nil
            lock.unlock()
            producer?.resume(returning: false)
        }
    }

    /// Fills a reserved slot and wakes the consumer.
    @inlinable
    func deliver(_ element: Element) {
        lock.lock()
        reserved -= 1
        if end == nil && !isClosed { elements.append(element) }
        let consumer = waitingConsumer
        waitingConsumer = nil
        lock.unlock()
        consumer?.unpark()
    }

    /// Records how the producer ended (the first call wins) and wakes the consumer.
    @usableFromInline
    func finish(_ result: Result<Void, any Error>) {
        lock.lock()
        if end == nil { end = result }
        let consumer = waitingConsumer
        waitingConsumer = nil
        lock.unlock()
        consumer?.unpark()
    }

    // MARK: Consumer side (the iterating thread)

    /// The next element, blocking until there is one or the producer ended; throws `.timedOut` if
    /// `deadline` passes first (the element, when it comes, stays for the next call).
    @inlinable
    func next(worker: any Worker, until deadline: Deadline, call: Submission) throws -> Element? {
        try Parker.withCurrent { parker in try next(worker: worker, until: deadline, call: call, parkingOn: parker) }
    }

    @inlinable
    func next(
        worker: any Worker,
        until deadline: Deadline,
        call: Submission,
        parkingOn parker: Parker
    ) throws -> Element? {
        var hasCheckedBlocking = false
        while true {
            lock.lock()
            if !elements.isEmpty {
                let element = elements.popFirst()
                var producer: UnsafeContinuation<Bool, Never>?
                if let waiting = waitingProducer, elements.count + reserved < capacity {
                    waitingProducer = nil
                    reserved += 1
                    producer = waiting
                }
                lock.unlock()
                producer?.resume(returning: true)
                return element
            }
            if let end {
                let isFirstReport = !isEndReported
                isEndReported = true
                lock.unlock()
                if isFirstReport, case .failure(let error) = end { throw error }
                return nil
            }
            if !hasCheckedBlocking {
                // About to block: refuse where waiting could never end, or where the policy forbids it
                // (before the deadline, as `execute` does: on the worker's thread, wouldDeadlock wins).
                lock.unlock()
                if worker.isCurrentThread { throw AsyncWorkerError.wouldDeadlock }
                try BlockingCallDiagnostics.shared.check(call)
                hasCheckedBlocking = true
                continue
            }
            if deadline.hasPassed {
                if waitingConsumer === parker { waitingConsumer = nil }
                lock.unlock()
                throw AsyncWorkerError.timedOut
            }
            waitingConsumer = parker
            lock.unlock()
            _ = parker.park(until: deadline)
            lock.lock()
            // Not consuming any more: a deliver() that comes later must not unpark a parker that a
            // later wait of this thread may be using.
            if waitingConsumer === parker { waitingConsumer = nil }
            lock.unlock()
            // Woken, timed out, or a stale permit from an earlier wait: loop and look again.
        }
    }

    /// The consumer is gone: drop what is buffered and stop the producer at its next reservation.
    @usableFromInline
    func close() {
        lock.lock()
        isClosed = true
        elements = FIFO()
        let producer = waitingProducer
        waitingProducer = nil
        lock.unlock()
        producer?.resume(returning: false)
    }
}
