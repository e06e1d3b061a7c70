/// A fixed table of mutexes shared by many small objects (futures), picked by object address.
///
/// A future needs a lock for a few instructions at a time and almost never sees contention. Giving each
/// its own `pthread_mutex_t` would cost an allocation per future (a Swift class cannot hold a C mutex
/// at a stable address); `Synchronization.Mutex` is invisible to ThreadSanitizer on Linux. A stripe is
/// held only around plain state changes: never while calling user code or taking another lock, so two
/// objects sharing a stripe cannot deadlock.
@usableFromInline
enum LockStripes {
    static let count = 128
    /// Each mutex sits on its own 64-byte cache line, so neighbours don't false-share.
    private static let stride = 64

    private struct Table: @unchecked Sendable {
        // @unchecked: the memory is written once, before publication by the `static let` below, and is
        // then used only through the thread-safe pthread mutex functions.
        let base: UnsafeMutableRawPointer
    }

    private static let table: Table = {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: count * stride, alignment: stride)
        precondition(PlatformRawMutex.size <= stride, "a mutex does not fit its stripe")
        for index in 0..<count {
            PlatformRawMutex.initialize(at: memory + index * stride)
        }
        return Table(base: memory)  // lives as long as the process
    }()

    /// The stripe for `object`.
    @usableFromInline
    static func mutex(for object: AnyObject) -> UnsafeMutableRawPointer {
        let address = UInt(bitPattern: Unmanaged.passUnretained(object).toOpaque())
        // Objects are 16-byte aligned: drop those bits, fold in higher ones.
        let index = Int(((address >> 4) ^ (address >> 12)) % UInt(count))
        return table.base + index * stride
    }

    /// Runs `body` holding `object`'s stripe. `body` must not call out to user code or take a lock.
    @inlinable @inline(__always)
    static func withLock<R>(for object: AnyObject, _ body: () -> R) -> R {
        let mutex = Self.mutex(for: object)
        PlatformRawMutex.lock(mutex)
        defer { PlatformRawMutex.unlock(mutex) }
        return body()
    }
}
