import Foundation
import Synchronization

/// The eventual outcome of a task started on a worker: wait for it from synchronous code, await it from
/// async code, observe it with a handler, or cancel the task.
///
/// Any thread may use a future, and any number of callers may wait on it; every one of them gets the same
/// outcome. A future is resolved exactly once: by its task's value or error, or with
/// ``AsyncWorkerError/shutDown`` if its worker stops first.
///
/// ```swift
/// let future = runAsyncTask(fireAndForget: { try await downloadReport() })
/// // ... other synchronous work ...
/// let report = try future.result(timeout: .seconds(10))
/// ```
public final class TaskFuture<T: Sendable>: @unchecked Sendable {
    // @unchecked: `_state` is read and written only inside `withState`, under this object's stripe of
    // `LockStripes` (a pthread mutex); exclusivity is therefore guaranteed by the lock, not checked at
    // run time.
    //
    // Performance: the hot members are `@inlinable` so callers specialise them for their `T`; unspecialised
    // generic code spent ~15% of a fire-and-forget call in runtime generic-metadata lookups.
    @exclusivity(unchecked) @usableFromInline var _state = State()
    /// The thread that runs the task: a blocking wait there could never end.
    @usableFromInline let owner: ThreadIdentity?

    @inlinable
    init(owner: ThreadIdentity?) {
        self.owner = owner
    }

    /// A future that is already resolved with `result`.
    @inlinable
    init(resolved result: Result<T, any Error>) {
        self.owner = nil
        _state.result = result
    }

    /// Runs `body` on the state under the future's lock. `body` must not call out to user code.
    @inlinable @inline(__always)
    func withState<R>(_ body: (inout State) -> R) -> R {
        LockStripes.withLock(for: self) { body(&_state) }
    }

    // MARK: Waiting from synchronous code

    /// Blocks the calling thread until the task finishes, then returns its value or throws its error.
    ///
    /// If `timeout` passes first, throws ``AsyncWorkerError/timedOut`` and the task keeps running: call
    /// `result` again to wait more, or ``cancel()`` to stop it. Any number of threads may wait at once.
    ///
    /// - Parameters:
    ///   - timeout: How long to wait; `nil` waits as long as it takes. Zero or less does not wait.
    ///   - fileID: Where the call is made, for the blocking-in-task report (``BlockingCallDiagnostics``);
    ///     leave the default.
    ///   - line: The line of the call, likewise.
    /// - Returns: The value the task returned.
    /// - Throws: The task's own error, unchanged; ``AsyncWorkerError/timedOut``;
    ///   ``AsyncWorkerError/wouldDeadlock`` if the future is unfinished and this is its worker's own thread;
    ///   ``AsyncWorkerError/shutDown`` if the worker stopped before the task finished.
    @inlinable
    public func result(timeout: Duration? = nil, fileID: StaticString = #fileID, line: UInt = #line) throws -> T {
        let call = Submission(fileID: fileID, line: line, api: "TaskFuture.result(timeout:)")
        guard let result = try wait(until: Deadline.after(timeout), call: call) else {
            throw AsyncWorkerError.timedOut
        }
        return try result.get()
    }

    /// Blocks until the task finishes or `timeout` seconds pass. See ``result(timeout:fileID:line:)-(Duration?,_,_)``.
    ///
    /// NaN or negative seconds do not wait; infinite or huge values wait as long as it takes.
    @inlinable
    public func result(timeout seconds: TimeInterval, fileID: StaticString = #fileID, line: UInt = #line) throws -> T {
        try result(timeout: Deadline.duration(fromSeconds: seconds), fileID: fileID, line: line)
    }

    /// `true` once the future is resolved (its task finished, or its worker shut down).
    @inlinable
    public var isDone: Bool {
        withState { $0.result != nil }
    }

    // MARK: Awaiting from async code

    /// The task's value, awaited without blocking a thread.
    ///
    /// If the awaiting task is cancelled, the wait ends with `CancellationError` and the future's own task
    /// goes on; call ``cancel()`` to stop it. Safe to use on the worker's own thread.
    ///
    /// - Throws: The task's own error, ``AsyncWorkerError/shutDown``, or `CancellationError` if the
    ///   awaiting task is cancelled first.
    @inlinable
    public var value: T {
        get async throws {
            if let result = resolvedResult { return try result.get() }
            let id = taskWaiterIDs.wrappingAdd(1, ordering: .relaxed).newValue
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
                    let ready: Result<T, any Error>? = withState { state in
                        if let result = state.result { return result }
                        if let index = state.cancelledWaiterIDs.firstIndex(of: id) {
                            state.cancelledWaiterIDs.remove(at: index)
                            return .failure(CancellationError())
                        }
                        state.waiters.append(.task(id: id, continuation))
                        return nil
                    }
                    if let ready { continuation.resume(with: ready) }
                }
            } onCancel: {
                let continuation: UnsafeContinuation<T, any Error>? = withState { state in
                    guard state.result == nil else { return nil }
                    let removed = state.waiters.removeFirst { waiter in
                        if case .task(id, _) = waiter { return true }
                        return false
                    }
                    if case .task(_, let continuation)? = removed { return continuation }
                    // The continuation is not registered yet: tell the registration to give up.
                    state.cancelledWaiterIDs.append(id)
                    return nil
                }
                continuation?.resume(throwing: CancellationError())
            }
        }
    }

    // MARK: Observing and cancelling

    /// Calls `handler` exactly once with the outcome: at once, on the calling thread, if the future is
    /// already resolved; otherwise on the thread that resolves it (normally the worker's thread).
    ///
    /// Handlers run in the order they were added, never while a lock is held, so a handler may use the
    /// future or submit more work. A handler runs on the worker's thread: keep it short and never block
    /// there (a blocking call from it throws ``AsyncWorkerError/wouldDeadlock``).
    @inlinable
    public func onComplete(_ handler: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let ready: Result<T, any Error>? = withState { state in
            if let result = state.result { return result }
            state.waiters.append(.handler(handler))
            return nil
        }
        if let ready { handler(ready) }
    }

    /// Like ``onComplete(_:)``, for a handler shared by many futures: `handler` receives `key` with the
    /// result, so registering it allocates nothing (a closure that captured the key would allocate its
    /// context per future).
    @inlinable
    func onComplete(key: UInt64, _ handler: @escaping @Sendable (UInt64, Result<T, any Error>) -> Void) {
        let ready: Result<T, any Error>? = withState { state in
            if let result = state.result { return result }
            state.waiters.append(.keyedHandler(key, handler))
            return nil
        }
        if let ready { handler(key, ready) }
    }

    /// Requests cancellation of the task. The future resolves when the task ends, with the task's own
    /// outcome (typically `CancellationError`; a task that catches cancellation and returns a value
    /// delivers that value). Cancelling a resolved future changes nothing.
    @inlinable
    public func cancel() {
        let task: Task<Void, any Error>? = withState { state in
            guard state.result == nil else { return nil }
            state.isCancelRequested = true
            return state.task
        }
        task?.cancel()
    }

    // MARK: Internals used by workers and dispatchers

    /// Connects the future to its task, so ``cancel()`` can reach it. Called once, right after the task
    /// was created; a cancel requested before that is delivered now.
    @inlinable
    func attach(_ task: Task<Void, any Error>) {
        let cancelNow: Bool = withState { state in
            // Already resolved: either the task finished (cancelling it is harmless) or the worker
            // abandoned it at shutdown (it must be cancelled).
            guard state.result == nil else { return true }
            state.task = task
            return state.isCancelRequested
        }
        if cancelNow { task.cancel() }
    }

    /// Resolves the future unless it already is; returns whether this call resolved it.
    /// Waiters are woken and handlers run after the lock is released, on the calling thread.
    @inlinable @discardableResult
    func resolve(_ result: Result<T, any Error>, cancellingTask: Bool = false) -> Bool {
        resolveTakingTask(result, cancellingTask: cancellingTask) != nil
    }

    /// ``resolve(_:cancellingTask:)`` that hands the caller the future's task handle, so the caller
    /// decides where it is dropped (see `PendingRegistry`): `nil` if the future was already resolved,
    /// `.some(nil)` if no task was attached.
    @inlinable
    func resolveTakingTask(
        _ result: Result<T, any Error>,
        cancellingTask: Bool = false
    ) -> Task<Void, any Error>?? {
        let resolved: (waiters: WaiterList, task: Task<Void, any Error>?)? = withState { state in
            guard state.result == nil else { return nil }
            state.result = result
            defer {
                state.waiters = WaiterList()
                state.cancelledWaiterIDs = []
                state.task = nil
            }
            return (state.waiters, state.task)
        }
        guard let resolved else { return nil }
        if cancellingTask { resolved.task?.cancel() }
        resolved.waiters.inArrivalOrder { waiter in
            switch waiter {
            case .thread(let parker): parker.unpark()
            case .task(_, let continuation): continuation.resume(with: result)
            case .handler(let handler): handler(result)
            case .keyedHandler(let key, let handler): handler(key, result)
            }
        }
        return .some(resolved.task)
    }

    /// Waits until the future is resolved or `deadline` passes; `nil` means the deadline passed.
    /// Separates the wait's own timeout from a `.timedOut` error the task itself may have thrown.
    /// `diagnostics` checks a wait that would block inside a Swift task (`nil`: the caller checked), and
    /// reports it as `call` (the API and site the user wrote).
    @inlinable
    func wait(
        until deadline: Deadline,
        diagnostics: BlockingCallDiagnostics? = .shared,
        call: Submission = Submission(fileID: "", line: 0, api: "TaskFuture.result(timeout:)")
    ) throws(AsyncWorkerError) -> Result<T, any Error>? {
        // A resolved future returns at once, even on its worker's thread; otherwise check the misuses
        // before waiting, then register and re-check in one lock acquisition.
        if let owner, owner.isCurrent || owner === ThreadIdentity.everyThread {
            if let result = resolvedResult { return result }
            throw .wouldDeadlock
        }
        if deadline.hasPassed { return resolvedResult }
        if let diagnostics, resolvedResult == nil { try diagnostics.check(call) }

        return Parker.withCurrent { parker in
            let early: Result<T, any Error>? = withState { state in
                if let result = state.result { return result }
                state.waiters.append(.thread(parker))
                return nil
            }
            if let early { return early }

            while true {
                let woken = parker.park(until: deadline)
                if let result = resolvedResult { return result }
                if !woken {
                    return withState { state in
                        if let result = state.result { return result }
                        _ = state.waiters.removeFirst { $0.isThread(parker) }
                        return nil
                    }
                }
                // A stale permit from an earlier wait woke us: the future is still pending, park again.
            }
        }
    }

    @inlinable
    var resolvedResult: Result<T, any Error>? {
        withState { $0.result }
    }
}

extension TaskFuture {
    /// Everything the future knows; guarded by its mutex. The future is pending while `result` is nil.
    @usableFromInline
    struct State: Sendable {
        @usableFromInline var result: Result<T, any Error>?
        /// Blocked threads, awaiting tasks and handlers, in arrival order; emptied on resolution.
        @usableFromInline var waiters = WaiterList()
        /// The task to cancel; nil before ``attach(_:)`` and after resolution.
        @usableFromInline var task: Task<Void, any Error>?
        @usableFromInline var isCancelRequested = false
        /// Awaiting tasks cancelled before their continuation was registered.
        @usableFromInline var cancelledWaiterIDs: [UInt64] = []

        @inlinable init() {}
    }

    /// The waiters in arrival order. The first is kept inline: a future almost always has one waiter
    /// (the blocking caller, or one completion handler), and an array would cost an allocation per future.
    @usableFromInline
    struct WaiterList: Sendable {
        @usableFromInline var first: Waiter?
        @usableFromInline var rest: [Waiter] = []

        @inlinable init() {}

        @inlinable
        mutating func append(_ waiter: Waiter) {
            if first == nil && rest.isEmpty {
                first = waiter
            } else {
                rest.append(waiter)
            }
        }

        /// Removes and returns the first waiter that matches.
        @inlinable
        mutating func removeFirst(where matches: (Waiter) -> Bool) -> Waiter? {
            if let waiter = first, matches(waiter) {
                first = nil
                if !rest.isEmpty { first = rest.removeFirst() }
                return waiter
            }
            guard let index = rest.firstIndex(where: matches) else { return nil }
            return rest.remove(at: index)
        }

        /// Calls `body` on every waiter, in arrival order.
        @inlinable
        func inArrivalOrder(_ body: (Waiter) -> Void) {
            if let first { body(first) }
            for waiter in rest { body(waiter) }
        }
    }

    @usableFromInline
    enum Waiter: Sendable {
        case thread(Parker)
        case task(id: UInt64, UnsafeContinuation<T, any Error>)
        case handler(@Sendable (Result<T, any Error>) -> Void)
        /// A handler shared by many futures, told which one resolved: registering it allocates nothing.
        case keyedHandler(UInt64, @Sendable (UInt64, Result<T, any Error>) -> Void)

        @inlinable
        func isThread(_ parker: Parker) -> Bool {
            if case .thread(let waiting) = self { return waiting === parker }
            return false
        }
    }
}

/// A future a worker can force to an end at shutdown, whatever its value type.
@usableFromInline
protocol AbandonableFuture: AnyObject, Sendable {
    /// Cancels the task and resolves the future with ``AsyncWorkerError/shutDown``; returns whether the
    /// future was still pending.
    func abandon() -> Bool
}

extension TaskFuture: AbandonableFuture {
    @usableFromInline
    func abandon() -> Bool {
        resolve(.failure(AsyncWorkerError.shutDown), cancellingTask: true)
    }
}

/// Identifies each awaiting task, so a cancelled wait removes its own continuation and no other.
@usableFromInline let taskWaiterIDs = Atomic<UInt64>(0)
