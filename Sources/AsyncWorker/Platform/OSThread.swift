#if canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#elseif canImport(Glibc)
import Glibc
#endif

/// An OS thread: spawn with a start handshake, join or detach, identify, yield. The only place in the
/// library that creates threads.
///
/// Platform differences handled here (checked against swift-nio's `ThreadPosix.swift`, glibc's and
/// musl 1.2.3's headers, Apple's libpthread):
/// - `pthread_t` is an integer on glibc, a pointer on Darwin and musl (an `OpaquePointer` there);
///   `pthread_create` takes a `pthread_t?` out-pointer on Darwin and musl.
/// - The start routine's argument is optional on Linux and non-optional on Darwin: the closure is
///   written against the optional type and the argument cast to it, which reads both.
/// - Thread names: Linux keeps at most 15 bytes (16 with the NUL) and refuses a longer name outright;
///   Darwin keeps 63. Names are set from inside the thread (a name set before start is dropped on
///   Linux), cut at a character boundary.
struct OSThread: @unchecked Sendable {
    // @unchecked: a `pthread_t` is a plain handle (an integer or an opaque pointer), valid on any thread.
    private let handle: pthread_t

    /// The most bytes of a thread name the OS keeps.
    #if canImport(Darwin)
    static let maximumNameBytes = 63
    #else
    static let maximumNameBytes = 15
    #endif

    /// Starts a thread named `name` (cut to ``maximumNameBytes``) that runs `setup`, then `body`; returns
    /// once the thread is named and `setup` has returned (the start handshake). Returns the `errno` of
    /// `pthread_create` if the OS refuses a thread.
    static func spawn(
        name: String,
        setup: @escaping () -> Void = {},
        body: @escaping () -> Void
    ) -> Result<OSThread, SpawnError> {
        let start = StartContext(name: name, setup: setup, body: body)
        let context = Unmanaged.passRetained(start).toOpaque()
        var created: pthread_t?
        #if canImport(Glibc) && !canImport(Musl)
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, osThreadEntry, context)
        created = handle
        #else
        let status = pthread_create(&created, nil, osThreadEntry, context)
        #endif
        guard status == 0, let handle = created else {
            Unmanaged<StartContext>.fromOpaque(context).release()
            return .failure(SpawnError(errno: status))
        }
        start.waitUntilStarted()
        return .success(OSThread(handle: handle))
    }

    /// Waits for the thread to exit and releases it. Not from the thread itself.
    func join() {
        pthread_join(handle, nil)
    }

    /// Lets the OS release the thread when it exits (now, if it has exited).
    func detach() {
        pthread_detach(handle)
    }

    /// An id of the calling thread, unique among the threads alive (never 0).
    @inlinable
    static var currentID: UInt {
        #if canImport(Glibc) && !canImport(Musl)
        return UInt(pthread_self())
        #else
        return UInt(bitPattern: pthread_self())
        #endif
    }

    /// Gives the CPU to another runnable thread, if any.
    @inlinable
    static func yield() {
        sched_yield()
    }

    /// `pthread_create` refused a thread.
    struct SpawnError: Error {
        var errno: Int32
    }
}

/// What a new thread needs: its name, its setup and body, and the handshake its creator waits on.
private final class StartContext: @unchecked Sendable {
    // @unchecked: `hasStarted` is read and written only while `lock` is held; the closures are called
    // once, by the new thread.
    let name: String
    let setup: () -> Void
    let body: () -> Void
    private let lock = PlatformConditionLock()
    private var hasStarted = false

    init(name: String, setup: @escaping () -> Void, body: @escaping () -> Void) {
        self.name = name
        self.setup = setup
        self.body = body
    }

    deinit { lock.destroy() }

    func markStarted() {
        lock.lock()
        hasStarted = true
        lock.unlock()
        lock.broadcast()
    }

    func waitUntilStarted() {
        lock.lock()
        while !hasStarted { lock.wait() }
        lock.unlock()
    }

    func run() {
        ThreadName.setCurrent(ThreadName.osName(for: name, maxBytes: OSThread.maximumNameBytes))
        setup()
        markStarted()
        body()
    }
}

/// The entry point of every thread `OSThread.spawn` starts. The argument is cast to the optional type,
/// so the same closure fits Linux's (optional) and Darwin's (non-optional) signatures.
#if canImport(Darwin)
private let osThreadEntry: @convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? = { argument in
    Unmanaged<StartContext>.fromOpaque((argument as UnsafeMutableRawPointer?)!).takeRetainedValue().run()
    return nil
}
#else
private let osThreadEntry: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { argument in
    Unmanaged<StartContext>.fromOpaque((argument as UnsafeMutableRawPointer?)!).takeRetainedValue().run()
    return nil
}
#endif
