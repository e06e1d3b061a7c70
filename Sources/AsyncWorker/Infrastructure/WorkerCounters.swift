import Synchronization

/// The counters of a ``ThreadWorker`` that the pending registry does not keep: how long tasks waited to
/// start, and the rare events (timeouts, rejections, stalls).
///
/// Recording a start is one clock read and a few uncontended relaxed atomic adds on the worker's thread;
/// the rare events are one relaxed atomic add each, off the hot path.
@usableFromInline
final class WorkerCounters: Sendable {
    let startLatency = LatencyHistogram()
    let timedOut = Atomic<Int>(0)
    let rejected = Atomic<Int>(0)
    let stalls = Atomic<Int>(0)

    @usableFromInline
    init() {}

    /// Records that a task submitted at `submittedAt` (monotonic nanoseconds) starts now.
    @usableFromInline
    func recordStart(submittedAt: UInt64) {
        let now = Deadline.now.nanoseconds
        startLatency.record(now > submittedAt ? now - submittedAt : 0)
    }

    /// Counts a blocking call whose deadline passed first.
    @usableFromInline
    func recordTimeout() {
        timedOut.wrappingAdd(1, ordering: .relaxed)
    }

    /// Counts a submission the worker refused.
    @usableFromInline
    func recordRejection() {
        rejected.wrappingAdd(1, ordering: .relaxed)
    }
}
