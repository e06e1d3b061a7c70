import Foundation
import Synchronization

/// Lets a thread that waits on the main thread keep the main run loop serviced, so main-queue work
/// (main-actor jobs, `DispatchQueue.main` blocks, timers) runs meanwhile instead of deadlocking.
///
/// Every wait in the library goes through here when it runs on the main thread: the ``Parker`` of a
/// blocking call and every ``ConditionLock/wait(until:)`` (room on a worker, a pipeline slot, a drain,
/// a shutdown join). The switch itself lives here, in Support; the public knob is `MainThreadWaiting`.
///
/// The main run loop cannot always be run: inside a main-queue block or a main-actor job (a blocking call
/// made there, or a wait nested in another wait's run-loop slice), CoreFoundation refuses to re-enter the
/// main queue and `RunLoop.run(mode:before:)` returns `false` at once. Main-queue work cannot run there
/// anyway (the main queue is serial and busy with the caller), so a wait that finds the run loop refused
/// blocks plainly instead of spinning on it.
@usableFromInline
enum MainRunLoop {
    /// Whether waits on the main thread service the run loop (the default) or block plainly.
    static let isServicingEnabled = Atomic<Bool>(true)

    /// The longest slice a wait spends in the run loop before it re-checks its deadline.
    static let sliceNanoseconds: UInt64 = 10_000_000

    /// Whether a wait made now, on the calling thread, should service the main run loop.
    static var shouldServiceOnCurrentThread: Bool {
        isServicingEnabled.load(ordering: .relaxed) && Thread.isMainThread
    }

    /// Runs the main run loop once, until `end` (monotonic nanoseconds) at the latest, or until a source
    /// fires (a main-queue block, posted by ``wake()``, counts). Returns `false` if the run loop refused to
    /// run (the caller is inside a main-queue block or main-actor job): then the caller must block plainly.
    static func runOnce(until end: UInt64) -> Bool {
        let now = Deadline.now.nanoseconds
        guard end > now else { return true }
        let seconds = Double(min(end &- now, sliceNanoseconds)) / 1e9
        return RunLoop.main.run(mode: .default, before: Date(timeIntervalSinceNow: seconds))
    }

    /// Makes a main thread waiting in ``runOnce(until:)`` return: an empty main-queue block is a source
    /// the run loop processes. Harmless if nobody waits there.
    static func wake() {
        DispatchQueue.main.async {}
    }
}
