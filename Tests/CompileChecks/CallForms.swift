// A compile-time check (see `.ci/compile-checks`): the spellings of issue 15 must compile and resolve
// to the blocking overloads (the annotations pin the types), and the forms below must stay errors.
//
// expect-with-NONSENDABLE_FUTURE: does not conform to the 'Sendable' protocol

import AsyncWorker
import Foundation

final class Legacy {  // not Sendable, as legacy classes are
    var rows: [String] = []
}

final class Controller {  // not Sendable
    var userID = 42

    func refresh() throws {
        let id = userID  // a Sendable copy, the README's pattern
        _ = try runAsyncTask(timeout: .seconds(1)) { id }
    }
}

func forms(dispatcher: TaskDispatcher, port: any Dispatcher, worker: ThreadWorker) throws {
    let a: Int = try runAsyncTask { 1 }
    let b: Int = try runAsyncTask(timeout: .seconds(2)) { 1 }
    let c: Int = try runAsyncTask(timeout: 2.5) { 1 }
    let d: Int = try runAsyncTask(timeout: nil) { 1 }
    let e: Int = try runAsyncTask({ 1 }, timeout: .seconds(2))
    let f: Int = try runAsyncTask({ 1 }, timeout: 2.5)
    let g: TaskFuture<Int> = runAsyncTask(fireAndForget: { 1 })
    let h: Int = try dispatcher.execute { 1 }
    let i: Int = try dispatcher.execute(timeout: .seconds(2)) { 1 }
    let j: Int = try port.execute(timeout: 2) { 1 }
    let k: Int = try port.execute({ 1 }, timeout: .seconds(2))
    let l: TaskFuture<Int> = port.executeAsync { 1 }
    let m: TaskFuture<Int> = worker.submit { 1 }
    let n: [Int] = try runAsyncBatch([1, 2], maxConcurrency: 2, timeout: .seconds(1)) { $0 }
    let o: [Result<Int, any Error>] = try runAsyncBatch(outcomesOf: [1, 2], maxConcurrency: 2) { $0 }
    let p: [Int] = try dispatcher.executeBatch([1], maxConcurrency: 1, timeout: 1.0) { $0 }
    // A blocking call returns a fresh non-Sendable value.
    let legacy: Legacy = try runAsyncTask(timeout: .seconds(1)) { Legacy() }
    let viaPort: Legacy = try port.execute(timeout: .seconds(1)) { Legacy() }
    _ = (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, legacy, viaPort)

    #if NONSENDABLE_FUTURE
    // A future may be read by many threads: its value must be Sendable.
    _ = runAsyncTask(fireAndForget: { Legacy() })
    #endif
}
