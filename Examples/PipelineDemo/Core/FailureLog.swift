import AsyncWorker
import Foundation

/// Collects the pipeline's failure events (its `onFailure` subscriber) into a ``FailureReport``.
/// Memory stays bounded: counts, plus a fixed number of examples.
final class FailureLog: @unchecked Sendable {
    // @unchecked: `report` and `exampleLines` are read and written only while `lock` is held (an
    // NSLock: a pthread mutex, which ThreadSanitizer understands).
    static let exampleLimit = 8
    private let lock = NSLock()
    private var report = FailureReport()
    private var exampleLines: [(line: Int, text: String)] = []

    func record(_ failure: PipelineFailure<InputLine>) {
        let text: String
        let line = failure.input.number
        switch failure.error {
        case let error as ParseError:
            text = error.description
        case let error as UnknownUserError:
            text = error.description
        default:
            text = "line \(line): \(failure.domain ?? "pipeline"): \(failure.error)"
        }
        lock.withLock {
            switch failure.error {
            case let error as ParseError: report.badLinesByKind[error.kind, default: 0] += 1
            case is UnknownUserError: report.unknownUsers += 1
            default: report.otherByType[String(reflecting: type(of: failure.error)), default: 0] += 1
            }
            // Keep the examples with the lowest line numbers: messages finish out of order.
            if exampleLines.count < Self.exampleLimit || line < exampleLines[exampleLines.count - 1].line {
                let position = exampleLines.firstIndex { $0.line > line } ?? exampleLines.count
                exampleLines.insert((line, text), at: position)
                if exampleLines.count > Self.exampleLimit { exampleLines.removeLast() }
            }
        }
    }

    var snapshot: FailureReport {
        lock.withLock {
            var copy = report
            copy.examples = exampleLines.map(\.text)
            return copy
        }
    }
}
