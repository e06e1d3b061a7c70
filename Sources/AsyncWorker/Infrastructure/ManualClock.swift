/// A clock that moves only when a test moves it: the clock of a ``ManualWorker``.
///
/// Inject it into code that takes `some Clock<Duration>`; a `sleep` on it suspends until
/// ``ManualWorker/advance(by:)`` (or ``advance(by:)``) moves the clock past its deadline. Sleepers are
/// resumed in deadline order (ties in the order they went to sleep); a cancelled sleep throws
/// `CancellationError` at once.
///
/// ```swift
/// struct Poller { let clock: any Clock<Duration>; … try await clock.sleep(for: .seconds(30)) … }
/// let worker = ManualWorker()
/// let future = worker.submit { try await Poller(clock: worker.clock).pollOnce() }
/// worker.runUntilIdle()              // runs up to the sleep
/// worker.advance(by: .seconds(30))   // wakes it and runs on
/// ```
public final class ManualClock: Clock, Sendable {
    /// A point on a ``ManualClock``: the time since the clock was created.
    public struct Instant: InstantProtocol, Sendable {
        /// The time since the clock's start.
        public var offset: Duration

        /// The instant `offset` after the clock's start.
        public init(offset: Duration) { self.offset = offset }

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let state = Locked(State())

    /// A clock at zero.
    public init() {}

    /// The clock's current time; it changes only through ``advance(by:)``.
    public var now: Instant { state.withLock { $0.now } }

    /// The clock has no resolution limit.
    public var minimumResolution: Duration { .zero }

    /// Suspends until the clock reaches `deadline` (at once if it has). `tolerance` is ignored.
    ///
    /// - Throws: `CancellationError` if the sleeping task is cancelled.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let resumeNow: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelledIDs.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        } onCancel: {
            let continuation = state.withLock { state -> UnsafeContinuation<Void, any Error>? in
                if let index = state.sleepers.firstIndex(where: { $0.id == id }) {
                    return state.sleepers.remove(at: index).continuation
                }
                state.cancelledIDs.insert(id)
                return nil
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `duration` and resumes every sleep that is due, in deadline order.
    /// Zero or negative durations change nothing. On a ``ManualWorker``, prefer
    /// ``ManualWorker/advance(by:)``, which also runs the resumed work.
    public func advance(by duration: Duration) {
        let target = now.advanced(by: max(duration, .zero))
        while resumeNextSleeper(notAfter: target) {}
        move(to: target)
    }

    /// Resumes the earliest sleeper due at or before `target`, moving the clock to its deadline; `false`
    /// when none is due.
    func resumeNextSleeper(notAfter target: Instant) -> Bool {
        let due = state.withLock { state -> UnsafeContinuation<Void, any Error>? in
            guard let index = state.sleepers.indices.min(by: { state.sleepers[$0] < state.sleepers[$1] }),
                state.sleepers[index].deadline <= target
            else { return nil }
            let sleeper = state.sleepers.remove(at: index)
            state.now = max(state.now, sleeper.deadline)
            return sleeper.continuation
        }
        due?.resume()
        return due != nil
    }

    /// Sets the clock to `target` if that is later.
    func move(to target: Instant) {
        state.withLock { $0.now = max($0.now, target) }
    }

    /// Resumes every sleeper with `CancellationError` (at shutdown).
    func cancelAllSleepers() {
        let sleepers = state.withLock { state in
            defer { state.sleepers = [] }
            return state.sleepers
        }
        for sleeper in sleepers { sleeper.continuation.resume(throwing: CancellationError()) }
    }
}

extension ManualClock {
    private struct Sleeper: Sendable, Comparable {
        let id: UInt64
        let deadline: Instant
        let continuation: UnsafeContinuation<Void, any Error>

        static func < (lhs: Sleeper, rhs: Sleeper) -> Bool {
            (lhs.deadline, lhs.id) < (rhs.deadline, rhs.id)
        }
        static func == (lhs: Sleeper, rhs: Sleeper) -> Bool { lhs.id == rhs.id }
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
        var cancelledIDs: Set<UInt64> = []
    }
}
