import Dispatch
import Foundation

@testable import AsyncWorker

/// Domains the pipeline tests compose. Each is tiny and deterministic.

struct AddOne: AsyncDomain {
    func execute(_ input: Int) async throws -> Int { input + 1 }
}

struct Stringify: AsyncDomain {
    func execute(_ input: Int) async throws -> String { String(input) }
}

struct CountCharacters: AsyncDomain {
    func execute(_ input: String) async throws -> Int { input.count }
}

struct OddNumberError: Error, Equatable {
    var value: Int
}

/// Throws ``OddNumberError`` for odd inputs, passes even ones through.
struct RejectOdd: AsyncDomain {
    func execute(_ input: Int) async throws -> Int {
        if input % 2 != 0 { throw OddNumberError(value: input) }
        return input
    }
}

/// Counts how often it runs.
struct CountingDomain: AsyncDomain {
    let runs: Counter
    func execute(_ input: Int) async throws -> Int {
        runs.increment()
        return input
    }
}

/// A domain with a custom monitor name.
struct Renamed: AsyncDomain {
    var name: String { "renamed-step" }
    func execute(_ input: Int) async throws -> Int { input }
}

/// Records whether it ran on `worker`'s thread.
struct ThreadProbe: AsyncDomain {
    let worker: any Worker
    let onWorker: Counter
    func execute(_ input: Int) async throws -> Int {
        if worker.isCurrentThread { onWorker.increment() }
        return input
    }
}

/// Signals `started`, then waits at `gate`; tracks how many run at once.
struct GatedDomain: AsyncDomain {
    let gate: AsyncGate
    let started: DispatchSemaphore
    let concurrency: ConcurrencyGauge
    func execute(_ input: Int) async throws -> Int {
        concurrency.enter()
        started.signal()
        await gate.wait()
        concurrency.leave()
        return input
    }
}

/// Signals `started`, then runs until cancelled and throws `CancellationError`.
struct HangUntilCancelled: AsyncDomain {
    let started: DispatchSemaphore
    func execute(_ input: Int) async throws -> Int {
        started.signal()
        await waitForCancellation()
        throw CancellationError()
    }
}

/// A sequence of `0..<count` that counts how many elements were taken from it.
struct CountingSequence: Sequence, Sendable {
    let count: Int
    let taken: Counter

    func makeIterator() -> Iterator { Iterator(count: count, taken: taken) }

    struct Iterator: IteratorProtocol {
        let count: Int
        let taken: Counter
        var position = 0
        mutating func next() -> Int? {
            guard position < count else { return nil }
            defer { position += 1 }
            taken.increment()
            return position
        }
    }
}

/// Runs `body` on a helper thread and returns at once; wait on the returned semaphore to learn it finished.
func startThread(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        body()
        done.signal()
    }
    thread.stackSize = 1 << 20
    thread.start()
    return done
}
