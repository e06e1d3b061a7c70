import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

struct Transient: Error, Equatable {
    let attempt: Int
}

/// Fails the first `failures` attempts of every message, then returns the input.
struct FlakyAtFirst: AsyncDomain {
    let failures: Int
    let attempts: Counter
    let policy: RetryPolicy
    var retryPolicy: RetryPolicy { policy }
    private let perInput = Locked([Int: Int]())

    init(failures: Int, attempts: Counter, policy: RetryPolicy) {
        self.failures = failures
        self.attempts = attempts
        self.policy = policy
    }

    func execute(_ input: Int) async throws -> Int {
        attempts.increment()
        let attempt = perInput.withLock { tries in
            tries[input, default: 0] += 1
            return tries[input, default: 0]
        }
        if attempt <= failures { throw Transient(attempt: attempt) }
        return input
    }
}

/// Sleeps for `firstAttempt` on its first attempt and returns at once afterwards.
struct SlowAtFirst: AsyncDomain {
    let firstAttempt: Duration
    let limit: Duration
    let policy: RetryPolicy
    let attempts = Counter()
    var retryPolicy: RetryPolicy { policy }
    var timeout: Duration? { limit }

    func execute(_ input: Int) async throws -> Int {
        if attempts.increment() == 1 { try await Task.sleep(for: firstAttempt) }
        return input
    }
}

@Suite("Pipeline retry policy and per-domain timeout")
struct PipelineRetryTests {
    @Test("a failing attempt is retried until it succeeds; the monitor counts failures and retries")
    func retryThenSucceed() {
        let worker = ThreadWorker(name: "pl-retry")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let attempts = Counter()
        let domain = FlakyAtFirst(
            failures: 2,
            attempts: attempts,
            policy: .exponential(maxAttempts: 4, initialBackoff: .milliseconds(1))
        )
        let pipeline = Pipeline(domain, worker: worker)
        #expect(watchdog { try pipeline.send(7, timeout: .seconds(10)) } == 7)
        #expect(attempts.count == 3)
        let stats = pipeline.monitor.snapshot().domains[0]
        #expect(stats.failures == 2)
        #expect(stats.retries == 2)
        #expect(stats.successes == 1)
        #expect(pipeline.monitor.snapshot().completedRuns == 1)
        #expect(pipeline.monitor.snapshot().table.contains("retries: FlakyAtFirst × 2"))
    }

    @Test("after maxAttempts the domain's own last error fails the message")
    func attemptsExhausted() {
        let worker = ThreadWorker(name: "pl-exhaust")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let attempts = Counter()
        let domain = FlakyAtFirst(
            failures: 10,
            attempts: attempts,
            policy: .exponential(maxAttempts: 3, initialBackoff: .milliseconds(1))
        )
        let pipeline = Pipeline(domain, worker: worker)
        let outcome = withWatchdog { try pipeline.send(1, timeout: .seconds(10)) }
        #expect(throws: Transient(attempt: 3)) { try outcome?.get() }
        #expect(attempts.count == 3)
        let stats = pipeline.monitor.snapshot().domains[0]
        #expect(stats.failures == 3)
        #expect(stats.retries == 2)
        #expect(pipeline.monitor.snapshot().failedRuns == 1)
    }

    @Test("an error the policy does not retry fails at once")
    func notRetryable() {
        let worker = ThreadWorker(name: "pl-noretry")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let attempts = Counter()
        let domain = FlakyAtFirst(
            failures: 1,
            attempts: attempts,
            policy: .exponential(maxAttempts: 5, initialBackoff: .milliseconds(1)) { !($0 is Transient) }
        )
        let pipeline = Pipeline(domain, worker: worker)
        let outcome = withWatchdog { try pipeline.send(1, timeout: .seconds(10)) }
        #expect(throws: Transient(attempt: 1)) { try outcome?.get() }
        #expect(attempts.count == 1)
        #expect(pipeline.monitor.snapshot().domains[0].retries == 0)
    }

    @Test("an attempt over the domain's timeout fails with DomainTimedOut, and is retried if the policy allows")
    func perDomainTimeout() {
        let worker = ThreadWorker(name: "pl-dtimeout")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let once = SlowAtFirst(firstAttempt: .seconds(30), limit: .milliseconds(50), policy: .none)
        let failing = Pipeline(once, worker: worker)
        let start = ContinuousClock.now
        let outcome = withWatchdog { try failing.send(1, timeout: .seconds(20)) }
        #expect(throws: DomainTimedOut(domain: "SlowAtFirst", timeout: .milliseconds(50))) { try outcome?.get() }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(failing.monitor.snapshot().domains[0].failuresByType.keys.contains { $0.contains("DomainTimedOut") })

        let retried = SlowAtFirst(
            firstAttempt: .seconds(30),
            limit: .milliseconds(50),
            policy: .exponential(maxAttempts: 2, initialBackoff: .milliseconds(1))
        )
        let recovering = Pipeline(retried, worker: worker)
        #expect(watchdog { try recovering.send(9, timeout: .seconds(20)) } == 9)
        #expect(retried.attempts.count == 2)
        #expect(recovering.monitor.snapshot().domains[0].retries == 1)
    }

    @Test("cancelling the message (send timeout) ends the backoff wait and the retries")
    func cancellationStopsRetries() {
        let worker = ThreadWorker(name: "pl-retrystop")
        defer { worker.shutdown(timeout: .seconds(5)) }
        let attempts = Counter()
        let domain = FlakyAtFirst(
            failures: 100,
            attempts: attempts,
            policy: .exponential(maxAttempts: 100, initialBackoff: .seconds(60))
        )
        let pipeline = Pipeline(domain, worker: worker)
        let outcome = withWatchdog { try pipeline.send(1, timeout: .milliseconds(100)) }
        #expect(throws: AsyncWorkerError.timedOut) { try outcome?.get() }
        #expect(eventually("the cancelled message to be counted") { pipeline.monitor.snapshot().failedRuns == 1 })
        #expect(attempts.count == 1)
    }

    @Test("backoff grows exponentially, is capped, and spreads within the jitter band; inputs are clamped")
    func backoffFormula() {
        let policy = RetryPolicy(
            maxAttempts: 6,
            initialBackoff: .milliseconds(10),
            multiplier: 2,
            maxBackoff: .milliseconds(50),
            jitter: 0.2
        )
        let middle = (2...6).map { policy.backoff(beforeAttempt: $0, unit: 0.5) }
        #expect(
            middle == [.milliseconds(10), .milliseconds(20), .milliseconds(40), .milliseconds(50), .milliseconds(50)]
        )
        #expect(policy.backoff(beforeAttempt: 2, unit: 0) == .milliseconds(8))
        #expect(policy.backoff(beforeAttempt: 3, unit: 0.999_999) < .milliseconds(24) + .microseconds(1))
        #expect(policy.backoff(beforeAttempt: 3, unit: 0.999_999) > .milliseconds(23))
        let clamped = RetryPolicy(maxAttempts: 0, multiplier: .nan, jitter: 5)
        #expect(clamped.maxAttempts == 1)
        #expect(clamped.multiplier == 1)
        #expect(clamped.jitter == 1)
        #expect(!clamped.shouldRetry(after: Transient(attempt: 1), attempt: 1))
        #expect(!RetryPolicy(maxAttempts: 3).shouldRetry(after: CancellationError(), attempt: 1))
    }
}
