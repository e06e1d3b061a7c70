import Foundation
import Synchronization

/// What a blocking call (`runAsyncTask`, ``TaskDispatcher/execute(_:timeout:fileID:line:)-(_,Duration?,_,_)``,
/// ``TaskFuture/result(timeout:fileID:line:)-(Duration?,_,_)`` on an unfinished future) does when it is made
/// from inside a Swift task — on the cooperative pool or on an actor — where it holds a thread the async
/// world needs.
public enum BlockingInTaskPolicy: Sendable, Equatable {
    /// Block without a word.
    case allow
    /// Block, and report the first such call through the diagnostics' reporter (once per
    /// ``BlockingCallDiagnostics`` instance). The default.
    case report
    /// Refuse: throw ``AsyncWorkerError/blockingInAsyncContext`` without starting or waiting for anything.
    case fail
}

/// A blocking call made from inside a Swift task, as given to the reporter.
public struct BlockingCallReport: Sendable, CustomStringConvertible {
    /// The API that was about to block, as the caller spelled it, e.g. `"runAsyncTask(timeout:_:)"`.
    public var api: String
    /// Where that call was made, `"App/Sync.swift:42"`; `nil` when the caller's site is unknown.
    public var site: String?
    /// The name of the thread that made the call (`nil` if unnamed).
    public var threadName: String?

    /// A report of a call to `api` made at `site` on the thread named `threadName`.
    public init(api: String, site: String? = nil, threadName: String? = nil) {
        self.api = api
        self.site = site
        self.threadName = threadName
    }

    /// One line naming the call, e.g. "AsyncWorker: runAsyncTask(timeout:_:) at App/Sync.swift:42 blocked
    /// a thread inside a Swift task. …", and what to do about it.
    public var description: String {
        let call = site.map { "\(api) at \($0)" } ?? api
        return "AsyncWorker: \(call) blocked a thread inside a Swift task. "
            + "Blocking the cooperative pool or an actor can starve async code; await the work instead "
            + "(e.g. `try await future.value`). Set BlockingCallDiagnostics.shared.policy to .allow to "
            + "silence this, or to .fail to make such calls throw."
    }
}

/// Detects blocking calls made from inside Swift tasks and applies a ``BlockingInTaskPolicy``.
///
/// Detection costs a relaxed atomic load and, unless the policy is ``BlockingInTaskPolicy/allow``, a lookup
/// of the current task (~50 ns on the development machine). Under the default policy, `runAsyncTask` and
/// ``TaskDispatcher`` make that lookup after submitting the work, while the caller would otherwise be
/// waiting for it, so it adds nothing to the round trip.
///
/// The default policy is ``BlockingInTaskPolicy/report``, deliberately not ``BlockingInTaskPolicy/fail``:
/// some legitimate callers are inside a task without being able to await — a synchronous test function
/// run by Swift Testing, a synchronous protocol requirement called from async code, a legacy callback
/// invoked on the pool. They keep working; the first occurrence is reported once (to standard error by
/// default) so the hazard is visible. Choose ``BlockingInTaskPolicy/fail`` in code that should never do it.
///
/// ```swift
/// BlockingCallDiagnostics.shared.policy = .fail               // process-wide, for the global functions
/// let strict = TaskDispatcher(worker: worker, diagnostics: BlockingCallDiagnostics(policy: .fail))
/// ```
public final class BlockingCallDiagnostics: Sendable {
    /// Used by the global functions, by ``TaskFuture/result(timeout:fileID:line:)-(Duration?,_,_)`` and by
    /// every dispatcher created without diagnostics of its own.
    public static let shared = BlockingCallDiagnostics()

    private let policyCode: Atomic<PolicyCode>
    private let hasReported = Atomic<Bool>(false)
    private let reporter: Locked<@Sendable (BlockingCallReport) -> Void>

    /// Creates diagnostics with a policy and a reporter (by default: one line to standard error).
    public init(
        policy: BlockingInTaskPolicy = .report,
        reporter: @escaping @Sendable (BlockingCallReport) -> Void = BlockingCallDiagnostics.writeToStandardError
    ) {
        self.policyCode = Atomic(PolicyCode(policy))
        self.reporter = Locked(reporter)
    }

    /// What blocking calls made from inside a task do. Any thread may change it at any time.
    public var policy: BlockingInTaskPolicy {
        get { policyCode.load(ordering: .relaxed).policy }
        set { policyCode.store(PolicyCode(newValue), ordering: .relaxed) }
    }

    /// Replaces the reporter. It is called at most once per instance, on the blocking thread, with no
    /// lock held.
    public func setReporter(_ reporter: @escaping @Sendable (BlockingCallReport) -> Void) {
        self.reporter.withLock { $0 = reporter }
    }

    /// The default reporter: writes the report's description as one line to standard error.
    public static let writeToStandardError: @Sendable (BlockingCallReport) -> Void = { report in
        FileHandle.standardError.write(Data((report.description + "\n").utf8))
    }

    /// Applies the policy to a blocking call about to be made (the ``Submission`` names the API and the
    /// caller's site).
    @usableFromInline
    func check(_ submission: Submission) throws(AsyncWorkerError) {
        try refuseIfFailing(submission)
        reportIfReporting(submission)
    }

    /// The part of the policy that must act before any work starts: under ``BlockingInTaskPolicy/fail``, a
    /// call from inside a task throws. Under the other policies, one relaxed load.
    @usableFromInline
    func refuseIfFailing(_ submission: Submission) throws(AsyncWorkerError) {
        guard policyCode.load(ordering: .relaxed) == .fail else { return }
        if Self.isInsideTask { throw .blockingInAsyncContext }
    }

    /// The part of the policy that may act once the work is under way: under ``BlockingInTaskPolicy/report``,
    /// the first call from inside a task is reported, naming the API and site the submission carries.
    ///
    /// The task lookup costs ~50 ns (measured: `async-worker-bench --scenario hotpath`), 2% of a round trip,
    /// so ``TaskDispatcher`` calls this after submitting, while the worker starts the operation and the
    /// caller would only be polling for its result. Once a report was made, one more relaxed load.
    @usableFromInline
    func reportIfReporting(_ submission: Submission) {
        guard policyCode.load(ordering: .relaxed) == .report, !hasReported.load(ordering: .relaxed) else { return }
        guard Self.isInsideTask, !hasReported.exchange(true, ordering: .relaxed) else { return }
        let api =
            submission.api.hasPointerRepresentation && submission.api.utf8CodeUnitCount > 0
            ? "\(submission.api)" : "a blocking call"
        let report = BlockingCallReport(api: api, site: submission.siteDescription, threadName: Thread.current.name)
        let reporter = self.reporter.withLock { $0 }
        reporter(report)
    }

    /// Whether the calling thread is running a Swift task (on the cooperative pool, an actor, a worker).
    private static var isInsideTask: Bool {
        withUnsafeCurrentTask { $0 != nil }
    }

    /// The policy as an atomic value.
    enum PolicyCode: UInt8, AtomicRepresentable {
        case allow, report, fail

        init(_ policy: BlockingInTaskPolicy) {
            switch policy {
            case .allow: self = .allow
            case .report: self = .report
            case .fail: self = .fail
            }
        }

        var policy: BlockingInTaskPolicy {
            switch self {
            case .allow: return .allow
            case .report: return .report
            case .fail: return .fail
            }
        }
    }
}
