import Testing

@testable import AsyncWorker

@Suite("AsyncWorkerError messages")
struct AsyncWorkerErrorTests {
    @Test(
        "each case says what happened and what to do",
        arguments: [
            (AsyncWorkerError.timedOut, "deadline passed", "longer timeout"),
            (.shutDown, "shut down", "running worker"),
            (.wouldDeadlock, "worker's own thread", "future.value"),
            (.threadStartFailed(errno: 11), "errno: 11", "thread limit"),
            (.blockingInAsyncContext, "inside a Swift task", "future.value"),
        ]
    )
    func descriptions(error: AsyncWorkerError, what: String, advice: String) {
        #expect(error.description.hasPrefix("AsyncWorkerError."))
        #expect(error.description.contains(what))
        #expect(error.description.contains(advice))
        #expect("\(error)" == error.description)
    }

    @Test("cases compare by value, so callers can match them")
    func equatable() {
        #expect(AsyncWorkerError.timedOut == .timedOut)
        #expect(AsyncWorkerError.timedOut != .shutDown)
        #expect(AsyncWorkerError.threadStartFailed(errno: 1) != .threadStartFailed(errno: 2))
    }

    @Test("a shutdown report describes a busy thread")
    func reportDescription() {
        let busy = ShutdownReport(drainedTasks: 2, abandonedTasks: 1, threadExited: false)
        #expect(!busy.isClean)
        #expect(busy.description.contains("thread still busy"))
        #expect(ShutdownReport(drainedTasks: 3, abandonedTasks: 0, threadExited: true).isClean)
    }
}
