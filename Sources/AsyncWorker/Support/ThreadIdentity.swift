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

    /// Forgets the owner, once its thread has exited (thread ids are reused by the OS).
    func release() {
        threadID.store(0, ordering: .relaxed)
    }

    /// Whether the caller runs on the owner thread.
    @usableFromInline
    var isCurrent: Bool {
        let owner = threadID.load(ordering: .relaxed)
        return owner != 0 && owner == OSThread.currentID
    }
}
