import Synchronization

/// Remembers which OS thread a worker runs on, so blocking calls can tell cheaply whether they were
/// made on that thread (where waiting could never end).
@usableFromInline
final class ThreadIdentity: Sendable {
    // 0 until the thread publishes itself. Relaxed ordering is enough: a thread only ever compares the
    // value with its own id, and it can only be equal if that thread stored it itself.
    private let threadID = Atomic<UInt>(0)

    /// Records the calling thread as the owner.
    func claimCurrentThread() {
        threadID.store(OSThread.currentID, ordering: .relaxed)
    }

    /// A thread that runs the owner's jobs for a moment (a caller running its task's first job while the
    /// worker is idle, see ``ThreadWorker/init(name:maxPendingTasks:callerRunsWhenIdle:)``); 0 if none.
    private let borrowerID = Atomic<UInt>(0)

    /// Forgets the owner, once its thread has exited (thread ids are reused by the OS).
    func release() {
        threadID.store(0, ordering: .relaxed)
    }

    /// Counts the calling thread as the owner until ``endBorrowing()``.
    func beginBorrowing() {
        borrowerID.store(OSThread.currentID, ordering: .relaxed)
    }

    func endBorrowing() {
        borrowerID.store(0, ordering: .relaxed)
    }

    /// Whether the caller runs on the owner thread (or is the thread borrowing its place).
    @usableFromInline
    var isCurrent: Bool {
        let owner = threadID.load(ordering: .relaxed)
        let current = OSThread.currentID
        if owner != 0 && owner == current { return true }
        let borrower = borrowerID.load(ordering: .relaxed)
        return borrower != 0 && borrower == current
    }
}
