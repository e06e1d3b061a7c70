#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A one-permit sleep/wake-up primitive owned by one thread, reused for every blocking wait that thread
/// makes, so a blocking call allocates no synchronisation object of its own.
///
/// ``unpark()`` leaves a permit that the next ``park(until:)`` consumes, so a wake-up is never lost even
/// if it comes before the owner sleeps. A stale permit (from a wait that timed out) only causes one early
/// return: every caller re-checks its own predicate in a loop.
final class Parker: @unchecked Sendable {
    // @unchecked: `hasPermit` is read and written only while `lock` is held.
    private let lock = ConditionLock()
    private var hasPermit = false  // protected by `lock`

    /// The calling thread's parker, created on first use and released when the thread exits.
    static var current: Parker {
        if let existing = pthread_getspecific(parkerKey) {
            return Unmanaged<Parker>.fromOpaque(existing).takeUnretainedValue()
        }
        let parker = Parker()
        pthread_setspecific(parkerKey, Unmanaged.passRetained(parker).toOpaque())
        return parker
    }

    /// Sleeps until a permit is available (consuming it) or `deadline` passes.
    /// Returns `false` on timeout. Only the owning thread calls this.
    func park(until deadline: Deadline) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        while !hasPermit {
            if !lock.wait(until: deadline) {
                // The deadline passed; a permit may have arrived at the same moment.
                break
            }
        }
        let woken = hasPermit
        hasPermit = false
        return woken
    }

    /// Makes a permit available and wakes the owner if it sleeps. Any thread may call this.
    func unpark() {
        lock.lock()
        hasPermit = true
        lock.unlock()
        lock.signal()
    }
}

private let parkerKey: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { pointer in
        if let pointer { Unmanaged<Parker>.fromOpaque(pointer).release() }
    }
    precondition(status == 0, "pthread_key_create failed: \(status)")
    return key
}()
