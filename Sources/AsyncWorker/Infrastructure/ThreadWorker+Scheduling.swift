// The worker keeps its own time: delayed jobs (every `Task.sleep`, `Clock.sleep`, timeout built on them)
// made by a task whose executor preference is the worker wait in the worker thread's own timer queue, not
// in libdispatch timers serviced by the cooperative pool, so a starved pool does not delay them.
//
// The runtime hook is experimental SPI (`SchedulingExecutor`, `@_spi(ExperimentalScheduling)`), checked on
// Swift 6.3.1 (Linux x86_64). It is used in this file only. Without it (an older compiler, or a build with
// `-Xswiftc -DASYNC_WORKER_NO_SCHEDULING`, for a toolchain where the SPI has changed) the worker is a plain
// executor again and sleeps are timed by the global executor, as before: everything else still works.
//
// What 6.3.1 does, measured: `Task.sleep` creates a separate, tiny "sleep task" whose only job resumes the
// sleeper, and hands that job to `Task.currentSchedulingExecutor` — found through the task's executor
// preference only (an actor's serial executor is not consulted) — with `enqueue(_:at:tolerance:clock:)`.
// Cancelling the sleeper resumes it at once through its cancellation handler; the sleep job stays queued
// and, when it runs at its deadline, only frees the sleep's state. So each delayed job runs exactly once,
// cancelled or not.

#if compiler(>=6.3) && !ASYNC_WORKER_NO_SCHEDULING
@_spi(ExperimentalScheduling) import _Concurrency

// The conformance is SPI too (a public type cannot conform to an SPI protocol in public): clients see
// no new API, and the runtime finds the conformance all the same.
@available(macOS 26.4, iOS 26.4, watchOS 26.4, tvOS 26.4, visionOS 26.4, *)
@_spi(ExperimentalScheduling)
extension ThreadWorker: SchedulingExecutor {
    /// Runs `job` on the worker's thread once `instant` has passed on `clock`. Called by the Swift runtime
    /// for sleeps made under this worker; see ``enqueue(_:after:tolerance:clock:)``.
    @_spi(ExperimentalScheduling)
    public func enqueue<C: Clock>(
        _ job: consuming ExecutorJob,
        at instant: C.Instant,
        tolerance: C.Duration?,
        clock: C
    ) {
        let job = UnownedJob(job)
        if let deadline = Self.monotonicDeadline(of: instant) {
            enqueue(job, at: deadline, tolerance: tolerance as? Duration)
        } else {
            enqueueAfterSleeping(job, until: instant, tolerance: tolerance, clock: clock)
        }
    }

    /// Runs `job` on the worker's thread once `delay` has passed on `clock`, never earlier, and up to
    /// `tolerance` later when that lets one wake-up serve two timers.
    ///
    /// `ContinuousClock` and `SuspendingClock` are timed by the worker's own timer queue (on the monotonic
    /// clock). Any other clock keeps its own meaning of time: its `sleep` runs on a helper task (on the
    /// global executor), then the job is queued on the worker.
    @_spi(ExperimentalScheduling)
    public func enqueue<C: Clock>(
        _ job: consuming ExecutorJob,
        after delay: C.Duration,
        tolerance: C.Duration?,
        clock: C
    ) {
        if clock is ContinuousClock || clock is SuspendingClock, let delay = delay as? Duration {
            enqueue(UnownedJob(job), after: delay, tolerance: tolerance as? Duration)
        } else {
            enqueue(job, at: clock.now.advanced(by: delay), tolerance: tolerance, clock: clock)
        }
    }

    /// The monotonic deadline of `instant`, for the clocks the worker times itself; nil for other clocks.
    private static func monotonicDeadline<Instant: InstantProtocol>(of instant: Instant) -> Deadline? {
        if let instant = instant as? ContinuousClock.Instant {
            return monotonicDeadline(of: instant) { ContinuousClock.now }
        }
        if let instant = instant as? SuspendingClock.Instant {
            return monotonicDeadline(of: instant) { SuspendingClock.now }
        }
        return nil
    }
    /// A clock the worker cannot convert: let the clock time the wait, then queue the job.
    private func enqueueAfterSleeping<C: Clock>(
        _ job: UnownedJob,
        until instant: C.Instant,
        tolerance: C.Duration?,
        clock: C
    ) {
        Task.detached {
            // Nothing cancels this helper; an error from a clock still must not drop the job.
            try? await clock.sleep(until: instant, tolerance: tolerance)
            self.enqueue(job, after: .zero, tolerance: nil)
        }
    }
}

@available(macOS 26.4, iOS 26.4, watchOS 26.4, tvOS 26.4, visionOS 26.4, *)
@_spi(ExperimentalScheduling)
extension SiteTaggedExecutor: SchedulingExecutor {
    // With stall detection on, a task's executor preference is its tag: forward delayed jobs to the
    // worker, untagged (a sleep job belongs to a separate sleep task, which does not keep the tag alive).
    @usableFromInline
    func enqueue<C: Clock>(
        _ job: consuming ExecutorJob,
        at instant: C.Instant,
        tolerance: C.Duration?,
        clock: C
    ) {
        worker.enqueue(job, at: instant, tolerance: tolerance, clock: clock)
    }

    @usableFromInline
    func enqueue<C: Clock>(
        _ job: consuming ExecutorJob,
        after delay: C.Duration,
        tolerance: C.Duration?,
        clock: C
    ) {
        worker.enqueue(job, after: delay, tolerance: tolerance, clock: clock)
    }
}
#endif

extension ThreadWorker {
    /// Whether delayed jobs of tasks on this worker are timed by the worker itself (true when the library
    /// was built with the runtime's scheduling hook; see the top of ThreadWorker+Scheduling.swift).
    static var keepsItsOwnTime: Bool {
        #if compiler(>=6.3) && !ASYNC_WORKER_NO_SCHEDULING
        true
        #else
        false
        #endif
    }

    /// Queues `job` on the worker's timer queue, due `delay` from now (a zero or negative delay: due at
    /// once; a huge one: never), runnable up to `tolerance` later. See ``enqueue(_:at:tolerance:)``.
    func enqueue(_ job: UnownedJob, after delay: Duration, tolerance: Duration?) {
        enqueue(job, at: Deadline.after(delay), tolerance: tolerance)
    }

    /// Queues `job` on the worker's timer queue, due at `deadline`, runnable up to `tolerance` later.
    /// Starts the worker if needed. Never drops the job: after shutdown (or if the thread cannot start) it
    /// runs on the fallback queue at its deadline.
    func enqueue(_ job: UnownedJob, at deadline: Deadline, tolerance: Duration?) {
        if !runningFlag.load(ordering: .acquiring) {
            // Whatever happens here, the thread below queues the job or hands it on at its deadline.
            try? start()
        }
        let toleranceNanoseconds = Deadline.nanoseconds(of: tolerance ?? .zero) ?? .max
        thread.enqueue(job, at: deadline, toleranceNanoseconds: toleranceNanoseconds)
    }

    /// The monotonic deadline of `instant` on the clock read by `now`: the instant's distance from that
    /// clock's now, added to the monotonic clock's now read just before and after it (the tightest of a few
    /// tries). Two clocks cannot be read at once: a thread paused between the readings would shift the
    /// deadline by the pause (seen under ThreadSanitizer: sleeps 100 µs apart woke out of order).
    static func monotonicDeadline<Instant: InstantProtocol>(
        of instant: Instant,
        now: () -> Instant
    ) -> Deadline where Instant.Duration == Duration {
        var best: (width: UInt64, deadline: Deadline)?
        for _ in 0..<4 {
            let before = Deadline.now.nanoseconds
            let clockNow = now()
            let after = Deadline.now.nanoseconds
            let width = after &- before
            if best == nil || width < best!.width {
                let midpoint = Deadline(nanoseconds: before &+ width / 2)
                let delay = clockNow.duration(to: instant)
                // A past instant is due now; a huge delay never (see `Deadline.adding`).
                best = (width, delay > .zero ? midpoint.adding(delay) : midpoint)
            }
            if width < 2_000 { break }
        }
        return best!.deadline
    }
}
