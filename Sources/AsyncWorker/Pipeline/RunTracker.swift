/// Counts the outcomes of one ``Pipeline/run(_:progressInterval:progress:)`` as its futures resolve, and
/// lets the running thread sleep until they all have.
@usableFromInline
final class RunTracker: @unchecked Sendable {
    // @unchecked: every `var` below is read and written only while `lock` is held.
    private let lock = ConditionLock()
    private var submitted = 0
    private var succeeded = 0
    private var failed = 0
    /// Messages whose slot is free again: the run is over when all are.
    private var released = 0
    private var failuresByType: [String: Int] = [:]
    private var isWaiting = false

    @usableFromInline
    init() {}

    /// Counts a message the pipeline accepted; its outcome must follow through ``record(_:)``.
    @usableFromInline
    func noteSubmitted() {
        lock.withLock { submitted += 1 }
    }

    /// Counts the outcome of a message, `error` if it failed: called once per message, from the thread
    /// that resolved it, before its slot is freed (so progress never shows more than `maxInFlight` in
    /// flight). Not generic: a generic method here would run unspecialised, looking up `Result`'s metadata
    /// for every message.
    @usableFromInline
    func record(failure error: (any Error)?) {
        let errorType = error.map { PipelineMonitor.typeName(of: $0) }
        lock.withLock {
            if let errorType {
                failed += 1
                failuresByType[errorType, default: 0] += 1
            } else {
                succeeded += 1
            }
        }
    }

    /// Notes that a message's slot is free; wakes the run when it was the last.
    @usableFromInline
    func noteReleased() {
        let mustWake: Bool = lock.withLock {
            released += 1
            return isWaiting && released == submitted
        }
        // One waiter at most: the thread running the run.
        if mustWake { lock.signal() }
    }

    /// Sleeps until every submitted message is released or `deadline` passes; returns whether all are.
    @usableFromInline
    func waitUntilFinished(until deadline: Deadline) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        isWaiting = true
        defer { isWaiting = false }
        while released < submitted {
            if !lock.wait(until: deadline) { break }
        }
        return released == submitted
    }

    @usableFromInline
    func progress(elapsed: Duration) -> RunProgress {
        lock.withLock {
            RunProgress(submitted: submitted, succeeded: succeeded, failed: failed, elapsed: elapsed)
        }
    }

    @usableFromInline
    func summary(elapsed: Duration, wasInterrupted: Bool) -> RunSummary {
        lock.withLock {
            RunSummary(
                submitted: submitted,
                succeeded: succeeded,
                failed: failed,
                failuresByType: failuresByType,
                elapsed: elapsed,
                wasInterrupted: wasInterrupted
            )
        }
    }
}
