import Synchronization

/// What an ``ExecutorThread`` publishes about the job it runs, for metrics and stall detection: a seqlock.
///
/// The thread bumps ``publishSequence(_:)`` before and after each job, so the sequence is odd while a job
/// runs; while ``isStampingJobs`` is on, it first stamps the job's start time and its task's submission
/// site. A reader (``runningJob()``, from the stall monitor's queue) takes the fields as describing one job
/// only if the sequence is the same, and odd, before and after reading them. Only the thread writes.
@usableFromInline
final class JobStamps: Sendable {
    private let sequence = Atomic<UInt64>(0)
    private let startedAt = Atomic<UInt64>(0)
    private let fileStart = Atomic<UInt>(0)
    private let fileLength = Atomic<Int>(0)
    private let line = Atomic<UInt>(0)
    /// While on, the thread stamps each job with its start time and site (stall detection). Read once
    /// per batch.
    @usableFromInline let isStampingJobs = Atomic<Bool>(false)

    /// Jobs started so far: a job counts as started when the sequence turns odd.
    var startedJobs: UInt64 { (sequence.load(ordering: .acquiring) &+ 1) / 2 }

    /// Publishes the thread's job sequence (odd: a job runs; even: between jobs).
    @inline(__always)
    func publishSequence(_ value: UInt64) {
        sequence.store(value, ordering: .releasing)
    }

    /// Stamps the job about to run (before its sequence turns odd, which publishes the stamp), with the
    /// site its task's tag names, if any.
    func publishStart(site tag: Unmanaged<SiteTaggedExecutor>?) {
        startedAt.store(Deadline.now.nanoseconds, ordering: .relaxed)
        if let tag {
            // A tag always names a site (``SiteTaggedExecutor/namesSite(_:)`` is checked before one is made).
            tag._withUnsafeGuaranteedRef { tag in
                fileStart.store(UInt(bitPattern: tag.fileID.utf8Start), ordering: .relaxed)
                fileLength.store(tag.fileID.utf8CodeUnitCount, ordering: .relaxed)
                line.store(tag.line, ordering: .relaxed)
            }
        } else {
            fileStart.store(0, ordering: .relaxed)
        }
    }

    /// Clears the stamp (stall detection was turned off).
    func clear() {
        startedAt.store(0, ordering: .relaxed)
        fileStart.store(0, ordering: .relaxed)
    }

    /// The job holding the thread right now, as published by the thread; nil when the thread is between
    /// jobs (or moved on while this was reading).
    func runningJob() -> RunningJob? {
        let before = sequence.load(ordering: .acquiring)
        guard before & 1 == 1 else { return nil }
        let startedAt = startedAt.load(ordering: .relaxed)
        let fileStart = fileStart.load(ordering: .relaxed)
        let fileLength = fileLength.load(ordering: .relaxed)
        let line = line.load(ordering: .relaxed)
        atomicMemoryFence(ordering: .acquiring)
        guard sequence.load(ordering: .relaxed) == before else { return nil }
        var site: SubmissionSite?
        if let start = UnsafePointer<UInt8>(bitPattern: fileStart) {
            // The bytes of a `#fileID` literal: static memory, never freed.
            let fileID = String(decoding: UnsafeBufferPointer(start: start, count: fileLength), as: UTF8.self)
            site = SubmissionSite(fileID: fileID, line: Int(line))
        }
        return RunningJob(sequence: before, startedAt: startedAt == 0 ? nil : startedAt, site: site)
    }

    /// What the thread published about the job it runs.
    struct RunningJob: Equatable {
        /// Odd; a different value means a different job.
        let sequence: UInt64
        /// When the job started (monotonic nanoseconds); nil if the thread was not stamping jobs then.
        let startedAt: UInt64?
        /// Where the job's task was submitted; nil for a job of no tagged task.
        let site: SubmissionSite?
    }
}
