import Dispatch

/// Watches one worker's thread and reports a job that holds it longer than a threshold.
///
/// The thread publishes, around each job, a sequence number, the job's start time and its task's
/// submission site (``JobStamps/runningJob()``); this monitor samples them on a timer, every quarter
/// of the threshold, from its own serial queue. The worker's hot path pays for the stamps only while a
/// monitor runs: a clock read per job, and one small executor object per submitted task to carry its
/// site (``SiteTaggedExecutor``). Each stalled job is reported once.
final class StallMonitor: @unchecked Sendable {
    // @unchecked: `lastSequence`, `firstSeenAt` and `reportedSequence` are read and written only by
    // `sample()`, which runs on the serial `queue`; the rest is immutable.
    let threshold: Duration
    private let thresholdNanoseconds: UInt64
    private let workerName: String
    private let thread: ExecutorThread
    private let registry: PendingRegistry
    private let counters: WorkerCounters
    private let handler: @Sendable (StallReport) -> Void
    private let queue: DispatchQueue
    private let timer: DispatchSourceTimer
    private var lastSequence: UInt64 = 0
    private var firstSeenAt: UInt64 = 0
    private var reportedSequence: UInt64 = 0

    /// The shortest threshold accepted; shorter ones are raised to it.
    static let minimumThreshold: Duration = .milliseconds(1)

    init(
        threshold: Duration,
        workerName: String,
        thread: ExecutorThread,
        registry: PendingRegistry,
        counters: WorkerCounters,
        handler: @escaping @Sendable (StallReport) -> Void
    ) {
        let threshold = Swift.max(threshold, Self.minimumThreshold)
        self.threshold = threshold
        self.thresholdNanoseconds = Deadline.nanoseconds(of: threshold) ?? UInt64(Int64.max)
        self.workerName = workerName
        self.thread = thread
        self.registry = registry
        self.counters = counters
        self.handler = handler
        self.queue = DispatchQueue(label: "AsyncWorker.stall-monitor.\(workerName)")
        self.timer = DispatchSource.makeTimerSource(queue: queue)
    }

    /// Turns the thread's job stamps on and starts sampling. Call once; a monitor must be started before
    /// it is released (Dispatch traps on releasing a timer that never ran).
    func start() {
        thread.stamps.isStampingJobs.store(true, ordering: .relaxed)
        let interval = Swift.max(thresholdNanoseconds / 4, 250_000)
        let clamped = Int(clamping: interval)
        timer.schedule(
            deadline: .now() + .nanoseconds(clamped),
            repeating: .nanoseconds(clamped),
            leeway: .nanoseconds(clamped / 10)
        )
        timer.setEventHandler { [weak self] in self?.sample() }
        timer.activate()
    }

    /// Stops sampling and the thread's job stamps. Returns at once; a sample in progress may still
    /// report.
    func stop() {
        thread.stamps.isStampingJobs.store(false, ordering: .relaxed)
        timer.cancel()
    }

    private func sample() {
        let now = Deadline.now.nanoseconds
        guard let job = thread.stamps.runningJob() else {
            lastSequence = 0
            return
        }
        if job.sequence != lastSequence {
            lastSequence = job.sequence
            firstSeenAt = now
        }
        guard job.sequence != reportedSequence else { return }
        // A job that started before the stamps were on is timed from the first sample that saw it.
        let startedAt = job.startedAt ?? firstSeenAt
        let held = now > startedAt ? now - startedAt : 0
        guard held >= thresholdNanoseconds else { return }
        reportedSequence = job.sequence
        counters.stalls.wrappingAdd(1, ordering: .relaxed)
        handler(
            StallReport(
                workerName: workerName,
                site: job.site,
                duration: .nanoseconds(Int64(clamping: held)),
                queueDepth: thread.queueDepth,
                inFlight: registry.pendingCount
            )
        )
    }
}
