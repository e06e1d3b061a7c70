/// How a pipeline domain retries a failed attempt: how many attempts, how long to wait between them
/// (exponential backoff with jitter) and which errors are worth another attempt.
///
/// ```swift
/// struct Fetch: AsyncDomain {
///     var retryPolicy: RetryPolicy {
///         .exponential(maxAttempts: 4, initialBackoff: .milliseconds(20)) { $0 is URLError }
///     }
///     var timeout: Duration? { .seconds(2) }
///     func execute(_ url: URL) async throws -> Data { … }
/// }
/// ```
///
/// The backoff before attempt *n* (n ≥ 2) is `initialBackoff × multiplier^(n−2)`, capped at `maxBackoff`,
/// then spread by ±`jitter` (a fraction) so that many failing messages do not retry in lockstep. The wait
/// is a `Task.sleep` on the pipeline's worker: other messages progress meanwhile, and cancelling the
/// message (a `send` timeout, a shutdown) ends the wait and the retries.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included; 1 means no retry. Values below 1 count as 1.
    public var maxAttempts: Int
    /// The wait before the second attempt.
    public var initialBackoff: Duration
    /// How much each wait grows over the previous one.
    public var multiplier: Double
    /// The longest wait.
    public var maxBackoff: Duration
    /// The spread of each wait, as a fraction of it (0.2: ±20%); clamped to 0...1.
    public var jitter: Double
    /// Whether an error is worth another attempt. `CancellationError` is never retried.
    public var isRetryable: @Sendable (any Error) -> Bool

    /// Creates a policy; see the type's documentation for the backoff formula.
    public init(
        maxAttempts: Int,
        initialBackoff: Duration = .milliseconds(10),
        multiplier: Double = 2,
        maxBackoff: Duration = .seconds(1),
        jitter: Double = 0.2,
        retryIf isRetryable: @escaping @Sendable (any Error) -> Bool = { _ in true }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = max(.zero, initialBackoff)
        self.multiplier = multiplier.isFinite ? max(1, multiplier) : 1
        self.maxBackoff = max(.zero, maxBackoff)
        self.jitter = jitter.isFinite ? min(1, max(0, jitter)) : 0
        self.isRetryable = isRetryable
    }

    /// No retry: one attempt. The default of every domain.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Exponential backoff with jitter; the same as ``init(maxAttempts:initialBackoff:multiplier:maxBackoff:jitter:retryIf:)``.
    public static func exponential(
        maxAttempts: Int,
        initialBackoff: Duration = .milliseconds(10),
        multiplier: Double = 2,
        maxBackoff: Duration = .seconds(1),
        jitter: Double = 0.2,
        retryIf isRetryable: @escaping @Sendable (any Error) -> Bool = { _ in true }
    ) -> RetryPolicy {
        RetryPolicy(
            maxAttempts: maxAttempts,
            initialBackoff: initialBackoff,
            multiplier: multiplier,
            maxBackoff: maxBackoff,
            jitter: jitter,
            retryIf: isRetryable
        )
    }

    /// The longest wait ``backoff(beforeAttempt:unit:)`` returns, in seconds (``Deadline/longestTimeout``).
    @usableFromInline static let longestBackoffSeconds: Double = 1_000_000_000

    /// Whether `error`, thrown by attempt `attempt` (1-based), earns another attempt.
    @usableFromInline
    func shouldRetry(after error: any Error, attempt: Int) -> Bool {
        attempt < maxAttempts && !(error is CancellationError) && isRetryable(error)
    }

    /// The wait before attempt `attempt` (≥ 2); `unit` in 0..<1 picks the point in the jitter band.
    @usableFromInline
    func backoff(beforeAttempt attempt: Int, unit: Double) -> Duration {
        let base = Double(initialBackoff.components.seconds) + Double(initialBackoff.components.attoseconds) / 1e18
        let cap = Double(maxBackoff.components.seconds) + Double(maxBackoff.components.attoseconds) / 1e18
        let grown = min(cap, base * PlatformMath.power(multiplier, Double(max(0, attempt - 2))))
        let spread = grown * jitter * (2 * unit - 1)
        // Huge values (a backoff of 10^11 s, a multiplier of 1e300) must not trap in the conversion: cap the
        // wait at the longest timeout the library knows (about 31 years), which is "for ever" for a sleep.
        let seconds = min(max(0, grown + spread), Self.longestBackoffSeconds)
        return .nanoseconds(Int64(seconds * 1e9))
    }
}

/// The error a domain's attempt fails with when it runs longer than the domain's
/// ``AsyncDomain/timeout``. The attempt is cancelled; the retry policy decides whether to try again.
public struct DomainTimedOut: Error, Sendable, Equatable, CustomStringConvertible {
    /// The domain's name.
    public var domain: String
    /// The timeout it exceeded.
    public var timeout: Duration

    @usableFromInline
    init(domain: String, timeout: Duration) {
        self.domain = domain
        self.timeout = timeout
    }

    public var description: String {
        "DomainTimedOut: domain \(domain) did not finish within \(timeout); the attempt was cancelled."
    }
}
