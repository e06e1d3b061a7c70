import Testing

@testable import AsyncWorker

// The behaviour on a real main thread is exercised by `swift run blocking-call` (section 5), which CI
// runs and which exits non-zero if the main-actor hop fails: in the test runner the main thread has
// handed the main queue to Dispatch, so no test here runs on the main thread.
@Suite("Main-thread waiting policy")
struct MainThreadWaitingTests {
    @Test("the default services the main run loop; the policy can be changed and restored")
    func policy() {
        #expect(MainThreadWaiting.policy == .serviceRunLoop)
        MainThreadWaiting.policy = .block
        #expect(MainThreadWaiting.policy == .block)
        MainThreadWaiting.policy = .serviceRunLoop
        #expect(MainThreadWaiting.policy == .serviceRunLoop)
    }
}
