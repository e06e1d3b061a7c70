// The baselines AsyncWorker is compared with, implemented here and measured in the same process and
// rounds: the kernel's wake-up limit, the naive bridge people write by hand, and the Swift runtime's own
// cost of a task with no thread hop.

import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Two plain threads ping-ponging over DispatchSemaphore

/// A partner thread that answers every `ping` with a `pong`: one round trip is two kernel wake-ups and
/// no allocation, the floor for any design where a blocked caller hands work to a sleeping thread.
final class SemaphorePingPong: Sendable {
    private let ping = DispatchSemaphore(value: 0)
    private let pong = DispatchSemaphore(value: 0)
    private let stopRequested = Atomic<Bool>(false)

    /// Starts the partner; pass the handle to ``stop(_:)``.
    func start() -> JoinableThread {
        JoinableThread { [self] in
            while true {
                ping.wait()
                if stopRequested.load(ordering: .acquiring) { return }
                pong.signal()
            }
        }
    }

    /// One blocking round trip through the partner thread.
    @inline(__always)
    func roundTrip() {
        ping.signal()
        pong.wait()
    }

    func stop(_ partner: JoinableThread) {
        stopRequested.store(true, ordering: .releasing)
        ping.signal()
        partner.join()
    }
}

// MARK: - The naive bridge

/// Holds a value handed from a task to a blocked thread; the semaphore orders the write before the read.
private final class HandOff<T>: @unchecked Sendable {
    var value: T?
}

/// The bridge people write first: a detached task on the global pool signals a semaphore the caller
/// waits on. One semaphore and one task per call; the task runs on a cooperative-pool thread.
func naiveBridge<T: Sendable>(_ operation: @escaping @Sendable () async -> T) -> T {
    let done = DispatchSemaphore(value: 0)
    let box = HandOff<T>()
    Task.detached {
        box.value = await operation()
        done.signal()
    }
    done.wait()
    return box.value!
}

// MARK: - A task with no thread hop: the runtime's floor per task

/// A task executor that runs each job at once on the thread that enqueues it.
///
/// `Task(executorPreference: InlineTaskExecutor()) { … }` called from synchronous code therefore
/// creates the task, runs it to completion and lets it go before the initializer returns, all on the
/// calling thread: no queue, no wake-up, no other thread. Its cost is what the Swift runtime charges
/// for one task's life cycle (allocation, first job, completion, release): the floor under any design
/// that runs each operation as a Swift task, as AsyncWorker does.
final class InlineTaskExecutor: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        job.runSynchronously(on: asUnownedTaskExecutor())
    }
}

/// Creates, runs and completes one trivial task inline (see ``InlineTaskExecutor``). The counter
/// proves the body ran.
@inline(__always)
func runInlineTask(on executor: InlineTaskExecutor, counting counter: AtomicCounter) {
    _ = Task(executorPreference: executor) {
        counter.increment()
    }
}
