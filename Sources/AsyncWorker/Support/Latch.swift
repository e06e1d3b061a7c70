/// A one-shot gate: closed until ``open()``, then open for ever. Threads wait for it with a deadline.
@usableFromInline
final class Latch: @unchecked Sendable {
    // @unchecked: `isOpen` is read and written only while `lock` is held.
    private let lock = ConditionLock()
    private var isOpen = false  // protected by `lock`

    func open() {
        lock.withLock { isOpen = true }
        lock.broadcast()
    }

    /// Waits until the latch is open or `deadline` passes; returns whether it is open.
    func wait(until deadline: Deadline = .never) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        while !isOpen {
            if !lock.wait(until: deadline) { return isOpen }
        }
        return true
    }
}
