/// A point-in-time view of a worker: how much work it took, where that work is now, how long work
/// waited for the thread, and what went wrong.
///
/// Counters are totals since the worker was created; take two snapshots and subtract them for a
/// rate. Get one with ``ThreadWorker/metrics()``, or ``SharedWorker/metrics()`` for the worker behind
/// the global `runAsyncTask` functions.
///
/// ```swift
/// let m = worker.metrics()
/// print(m)                        // a short multi-line summary
/// if m.startLatency.p99 > .milliseconds(10) { … }   // work waits too long for the thread
/// ```
///
/// Each counter is read on its own, without stopping the worker: while work is flowing, the fields of
/// one snapshot may be a few tasks apart from each other.
public struct WorkerMetrics: Sendable, Equatable, CustomStringConvertible {
    /// The worker's name.
    public var name: String
    /// Tasks the worker accepted.
    public var submitted: Int
    /// Accepted tasks that have ended, whatever their outcome (including those abandoned at shutdown).
    public var completed: Int
    /// Completed tasks that ended with an error (cancellation errors included).
    public var failed: Int
    /// Completed tasks that had been cancelled when they ended: by a timed-out blocking call, by
    /// ``TaskFuture/cancel()``, or by shutdown.
    public var cancelled: Int
    /// Tasks accepted and not yet ended: running, waiting for the thread, or suspended at an `await`.
    public var inFlight: Int
    /// Jobs waiting for the thread right now (a job is one slice of a task between two suspensions):
    /// how far the thread is behind.
    public var queueDepth: Int
    /// Blocking calls (``TaskDispatcher/execute(_:timeout:fileID:line:)-(_,Duration?,_,_)``, `runAsyncTask`) whose
    /// deadline passed first. A `result(timeout:)` on a future that times out is not counted: its task
    /// goes on.
    public var timedOut: Int
    /// Submissions refused because the worker was shut down (or its thread could not start).
    public var rejected: Int
    /// Submissions that had to wait for room because `maxPendingTasks` tasks were pending
    /// (backpressure on a producer that outruns the worker).
    public var throttled: Int
    /// Jobs reported as stalls (see ``ThreadWorker/onStall(threshold:perform:)``); 0 while stall
    /// detection is off.
    public var stalls: Int
    /// The time from submission to the moment the task's first job started on the thread.
    public var startLatency: LatencySummary

    public init(
        name: String,
        submitted: Int = 0,
        completed: Int = 0,
        failed: Int = 0,
        cancelled: Int = 0,
        inFlight: Int = 0,
        queueDepth: Int = 0,
        timedOut: Int = 0,
        rejected: Int = 0,
        throttled: Int = 0,
        stalls: Int = 0,
        startLatency: LatencySummary = LatencySummary()
    ) {
        self.name = name
        self.submitted = submitted
        self.completed = completed
        self.failed = failed
        self.cancelled = cancelled
        self.inFlight = inFlight
        self.queueDepth = queueDepth
        self.timedOut = timedOut
        self.rejected = rejected
        self.throttled = throttled
        self.stalls = stalls
        self.startLatency = startLatency
    }

    public var description: String {
        """
        worker '\(name)': \(submitted) submitted, \(completed) completed (\(failed) failed, \(cancelled) \
        cancelled), \(inFlight) in flight, \(queueDepth) jobs queued
          start latency: \(startLatency)
          timed out \(timedOut), rejected \(rejected), throttled \(throttled), stalls \(stalls)
        """
    }
}

/// The distribution of a duration over many events: count, mean, percentiles and maximum.
///
/// Percentiles come from a log-linear histogram and are rounded up by at most 1/16 (6.25%) of their
/// value; the mean and the maximum are exact. All are zero when nothing was recorded.
public struct LatencySummary: Sendable, Equatable, CustomStringConvertible {
    /// How many durations were recorded.
    public var count: Int
    public var mean: Duration
    public var p50: Duration
    public var p90: Duration
    public var p99: Duration
    public var max: Duration

    public init(
        count: Int = 0,
        mean: Duration = .zero,
        p50: Duration = .zero,
        p90: Duration = .zero,
        p99: Duration = .zero,
        max: Duration = .zero
    ) {
        self.count = count
        self.mean = mean
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.max = max
    }

    /// A summary of `histogram`'s nanosecond counts.
    init(_ histogram: LatencyHistogram.Summary) {
        func duration(_ nanoseconds: UInt64) -> Duration { .nanoseconds(Int64(clamping: nanoseconds)) }
        self.init(
            count: histogram.count,
            mean: duration(histogram.mean),
            p50: duration(histogram.p50),
            p90: duration(histogram.p90),
            p99: duration(histogram.p99),
            max: duration(histogram.max)
        )
    }

    public var description: String {
        guard count > 0 else { return "no samples" }
        return "p50 \(p50.compactDescription), p90 \(p90.compactDescription), p99 \(p99.compactDescription), "
            + "max \(max.compactDescription), mean \(mean.compactDescription) over \(count)"
    }
}
