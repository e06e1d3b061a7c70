/// Where a task was submitted: the `#fileID` and `#line` of the call that started it.
///
/// `runAsyncTask`, ``TaskDispatcher`` and ``ThreadWorker/submit(_:fileID:line:)`` capture it with default
/// arguments, so callers never pass it; code that wraps them can forward its own caller's site.
public struct SubmissionSite: Sendable, Hashable, CustomStringConvertible {
    /// The `#fileID` of the submitting call: `Module/File.swift`.
    public var fileID: String
    /// The `#line` of the submitting call.
    public var line: Int

    public init(fileID: String, line: Int) {
        self.fileID = fileID
        self.line = line
    }

    public var description: String { "\(fileID):\(line)" }
}

/// A job that has held a worker's thread longer than the stall threshold, as passed to the handler of
/// ``ThreadWorker/onStall(threshold:perform:)``.
///
/// A job is one slice of a task between two suspension points; it holds the thread when it blocks
/// (a semaphore wait, `sleep`, synchronous I/O) or computes for long without an `await`. Every other task
/// on the worker waits behind it.
public struct StallReport: Sendable, Equatable, CustomStringConvertible {
    /// The name of the stalled worker.
    public var workerName: String
    /// Where the task that owns the stalled job was submitted; a job of a child task (`async let`, task
    /// group) reports its parent's site. `nil` for a job that belongs to no submitted task (an actor
    /// whose executor is the worker, say), to a task submitted before stall detection was turned on, or
    /// to a task submitted through a protocol requirement that carries no site (`Worker.submit(_:)`,
    /// `Dispatcher.execute(_:timeout:)` and `executeAsync(_:)` called on `any Worker`/`any Dispatcher`).
    public var site: SubmissionSite?
    /// How long the job had held the thread when the stall was detected: at least the threshold. The
    /// thread is sampled every quarter of the threshold, so the true figure is at most that much longer.
    public var duration: Duration
    /// Jobs waiting behind the stalled one at that moment.
    public var queueDepth: Int
    /// Tasks accepted by the worker and not yet ended at that moment.
    public var inFlight: Int

    public init(workerName: String, site: SubmissionSite?, duration: Duration, queueDepth: Int, inFlight: Int) {
        self.workerName = workerName
        self.site = site
        self.duration = duration
        self.queueDepth = queueDepth
        self.inFlight = inFlight
    }

    public var description: String {
        let origin = site.map { "task submitted at \($0)" } ?? "a job of no submitted task"
        return "worker '\(workerName)' stalled: \(origin) has held the thread for \(duration.compactDescription) "
            + "(\(queueDepth) jobs queued behind it, \(inFlight) tasks in flight)"
    }
}
