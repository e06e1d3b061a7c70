/// How one piece of work is handed to a ``Worker``: the call site that submitted it, named in stall
/// reports, and how long the submission may wait for room on a full worker.
///
/// Every way in — `runAsyncTask`, a ``Dispatcher``, ``Worker/submit(_:fileID:line:)`` — builds one
/// `Submission` and passes it through the ports, so a worker of any kind sees the user's `#fileID:#line`
/// and honours the caller's deadline. You need one only to call a port requirement directly:
///
/// ```swift
/// let future = worker.submit({ try await sync.pull() }, Submission(roomTimeout: .seconds(1)))
/// ```
public struct Submission: Sendable {
    /// The `#fileID` of the call that submitted the work; empty when unknown.
    public let fileID: StaticString
    /// The line of that call; 0 when unknown.
    public let line: UInt
    /// When a submission that has to wait for room (a ``ThreadWorker`` at its `maxPendingTasks`) gives
    /// up: the future is then already failed with ``AsyncWorkerError/timedOut`` and nothing started.
    @usableFromInline var roomDeadline: Deadline
    /// The API the user called, as spelled in diagnostics (`"runAsyncTask(timeout:_:)"`); empty when
    /// unknown.
    @usableFromInline let api: StaticString
    /// The submitter blocks until the work is done, so a worker that allows it may run the work's first
    /// job on the submitting thread (see ``ThreadWorker/init(name:maxPendingTasks:callerRunsWhenIdle:)``).
    @usableFromInline var waitsForResult = false

    /// A submission made at `fileID:line` (by default: where this initialiser is called).
    ///
    /// - Parameters:
    ///   - fileID: The call site's `#fileID`; forward your own caller's to name it in stall reports.
    ///   - line: The call site's `#line`.
    ///   - roomTimeout: How long the submission may wait for room on a full worker; `nil` (the default)
    ///     waits as long as it takes. Zero or less does not wait. Huge values mean no limit.
    @inlinable
    public init(fileID: StaticString = #fileID, line: UInt = #line, roomTimeout: Duration? = nil) {
        self.fileID = fileID
        self.line = line
        self.roomDeadline = Deadline.after(roomTimeout)
        self.api = ""
    }

    @inlinable
    init(fileID: StaticString, line: UInt, roomDeadline: Deadline = .never, api: StaticString = "") {
        self.fileID = fileID
        self.line = line
        self.roomDeadline = roomDeadline
        self.api = api
    }

    /// This submission with its wait for room ending at `deadline` at the latest.
    @inlinable
    func waitingForRoom(until deadline: Deadline) -> Submission {
        var copy = self
        copy.roomDeadline = min(roomDeadline, deadline)
        return copy
    }

    /// This submission marked as made by a caller that blocks until the work is done.
    @inlinable
    func waitingForResult() -> Submission {
        var copy = self
        copy.waitsForResult = true
        return copy
    }

    /// `"App/main.swift:42"`, or `nil` when the site is unknown.
    var siteDescription: String? {
        hasSite ? "\(fileID):\(line)" : nil
    }

    /// The time left to wait for room: `nil` for no limit, `.zero` once the deadline has passed.
    public var timeLeftForRoom: Duration? {
        guard roomDeadline != .never else { return nil }
        let now = Deadline.now.nanoseconds
        guard roomDeadline.nanoseconds > now else { return .zero }
        return .nanoseconds(Int64(clamping: roomDeadline.nanoseconds - now))
    }

    /// `true` when the call site is known (a non-empty `fileID`).
    public var hasSite: Bool { fileID.hasPointerRepresentation && fileID.utf8CodeUnitCount > 0 }
}
