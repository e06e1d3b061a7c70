import Foundation
import Synchronization

/// What a blocking call (`runAsyncTask`, ``TaskDispatcher/execute(_:timeout:)-(_,Duration?)``,
/// ``TaskFuture/result(timeout:)-(Duration?)`` on an unfinished future) does when it is made from inside
/// a Swift task — on the cooperative pool or on an actor — where it holds a thread the async world needs.
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
    /// The API that was about to block, e.g. `"TaskDispatcher.execute"`.
    public var api: String
    /// The name of the thread that made the call (`nil` if unnamed).
    public var threadName: String?

    public var description: String {
        "AsyncWorker: \(api) blocked a thread inside a Swift task (thread \(threadName ?? "unnamed")). "
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
    /// Used by the global functions, by ``TaskFuture/result(timeout:)-(Duration?)`` and by every dispatcher
    /// created without diagnostics of its own.
    public static let shared = BlockingCallDiagnostics()

    private let policyCode: Atomic<UInt8>
    private let hasReported = Atomic<Bool>(false)
    private let reporter: Locked<@Sendable (BlockingCallReport) -> Void>

    /// Creates diagnostics with a policy and a reporter (by default: one line to standard error).
    public init(
        policy: BlockingInTaskPolicy = .report,
        reporter: @escaping @Sendable (BlockingCallReport) -> Void = BlockingCallDiagnostics.writeToStandardError
    ) {
        self.policyCode = Atomic(Self.code(of: policy))
        self.reporter = Locked(reporter)
    }

    /// What blocking calls made from inside a task do. Any thread may change it at any time.
    public var policy: BlockingInTaskPolicy {
        get {
            switch policyCode.load(ordering: .relaxed) {
            case 0: return .allow
            case 1: return .report
            default: return .fail
            }
        }
        set { policyCode.store(Self.code(of: newValue), ordering: .relaxed) }
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

    /// Applies the policy to a blocking call about to be made by `api`.
    @usableFromInline
    func check(_ api: StaticString) throws(AsyncWorkerError) {
        try refuseIfFailing()
        reportIfReporting(api)
    }

    /// The part of the policy that must act before any work starts: under ``BlockingInTaskPolicy/fail``, a
    /// call from inside a task throws. Under the other policies, one relaxed load.
    @usableFromInline
    func refuseIfFailing() throws(AsyncWorkerError) {
        guard policyCode.load(ordering: .relaxed) == 2 else { return }
        if Self.isInsideTask { throw .blockingInAsyncContext }
    }

    /// The part of the policy that may act once the work is under way: under ``BlockingInTaskPolicy/report``,
    /// the first call from inside a task is reported.
    ///
    /// The task lookup costs ~50 ns (measured: `async-worker-bench --scenario hotpath`), 2% of a round trip,
    /// so ``TaskDispatcher/execute(_:timeout:fileID:line:)`` calls this after submitting, while the worker
    /// starts the operation and the caller would only be polling for its result. Once a report was made,
    /// one more relaxed load.
    @usableFromInline
    func reportIfReporting(_ api: StaticString) {
        guard policyCode.load(ordering: .relaxed) == 1, !hasReported.load(ordering: .relaxed) else { return }
        guard Self.isInsideTask, !hasReported.exchange(true, ordering: .relaxed) else { return }
        let report = BlockingCallReport(api: "\(api)", threadName: Thread.current.name)
        let reporter = self.reporter.withLock { $0 }
        reporter(report)
    }

    /// Whether the calling thread is running a Swift task (on the cooperative pool, an actor, a worker).
    private static var isInsideTask: Bool {
        withUnsafeCurrentTask { $0 != nil }
    }

    private static func code(of policy: BlockingInTaskPolicy) -> UInt8 {
        switch policy {
        case .allow: return 0
        case .report: return 1
        case .fail: return 2
        }
    }
}
