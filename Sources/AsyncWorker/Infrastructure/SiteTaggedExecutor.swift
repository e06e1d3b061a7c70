/// The task executor of one task submitted while stall detection is on: it forwards every job to the
/// worker's thread with the task's submission site attached, so the thread knows whose job it runs.
///
/// A Swift job carries no public link to its task, but a task sends every job through its preferred
/// task executor, and its child tasks inherit that preference: one of these per submitted task tags
/// each slice of the task, its `async let`s and its task-group children, using public API only.
/// The task retains its executor, so a tag lives as long as any job that points to it.
@usableFromInline
final class SiteTaggedExecutor: TaskExecutor {
    /// Retained like the worker itself would be as the task's executor, so the worker outlives the task.
    @usableFromInline let worker: ThreadWorker
    /// A `#fileID` literal: static memory, valid for the life of the process.
    let fileID: StaticString
    let line: UInt

    /// `fileID` must name a site (``namesSite(_:)``).
    @usableFromInline
    init(worker: ThreadWorker, fileID: StaticString, line: UInt) {
        assert(Self.namesSite(fileID), "a tag without a site")
        self.worker = worker
        self.fileID = fileID
        self.line = line
    }

    @usableFromInline
    func enqueue(_ job: consuming ExecutorJob) {
        worker.thread.enqueue(UnownedJob(job), tag: Unmanaged.passUnretained(self))
    }

    /// Whether `fileID` names a site: false for an empty one (passed by the overloads that implement the
    /// ``Worker`` and ``Dispatcher`` requirements, which do not know their caller's: such a task gets no tag,
    /// and its stalls report no site) and for a literal not stored as UTF-8 bytes (a one-scalar literal).
    @usableFromInline
    static func namesSite(_ fileID: StaticString) -> Bool {
        fileID.hasPointerRepresentation && fileID.utf8CodeUnitCount > 0
    }
}
