import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

/// The parent suite of the bridge tests (`swift test --filter Bridges`).
@Suite("Bridges", .timeLimit(.minutes(2)))
enum Bridges {}

/// The worker that runs the async side of the bridge tests. Not the cooperative pool: Swift Testing runs
/// synchronous tests on it, and tests blocked on semaphores would starve tasks started there.
let bridgeTestWorker = ThreadWorker(name: "bridge-tests")

/// An async body started as a task on ``bridgeTestWorker``, whose outcome synchronous test code waits for
/// with a watchdog.
final class Spawned<T: Sendable>: Sendable {
    private let future: TaskFuture<T>

    init(_ body: @escaping @Sendable () async throws -> T) {
        future = bridgeTestWorker.submit(body)
    }

    func cancel() { future.cancel() }

    /// Waits (with the watchdog limit) for the body to finish and returns its outcome; `nil` on a hang.
    func outcome(sourceLocation: SourceLocation = #_sourceLocation) -> Result<T, any Error>? {
        do {
            return .success(try future.result(timeout: watchdogLimit))
        } catch AsyncWorkerError.timedOut where !future.isDone {
            Issue.record("timed out waiting for a spawned task", sourceLocation: sourceLocation)
            return nil
        } catch {
            return .failure(error)
        }
    }
}

/// Runs an async body and waits for it with the watchdog; records a failure on a hang or a thrown error.
func awaitWithWatchdog<T: Sendable>(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () async throws -> T
) -> T? {
    switch Spawned(body).outcome(sourceLocation: sourceLocation) {
    case .success(let value)?: return value
    case .failure(let error)?:
        Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
        return nil
    case nil: return nil
    }
}

/// An error with a payload, to check that errors pass through unchanged.
struct LegacyError: Error, Equatable {
    var code: Int
}
