import Testing

@testable import AsyncWorker

@Suite("Deadline: monotonic, clamped conversions")
struct DeadlineTests {
    @Test("nil and huge timeouts mean no deadline, without overflow")
    func hugeTimeouts() {
        #expect(Deadline.after(nil) == .never)
        #expect(Deadline.after(.seconds(Int64.max)) == .never)
        #expect(Deadline.after(.seconds(1_000_000_000)) == .never)
        #expect(Deadline.nanoseconds(of: .seconds(Int64.max)) == nil)
    }

    @Test("zero and negative timeouts give a deadline that has passed")
    func zeroAndNegative() {
        #expect(Deadline.after(.zero).hasPassed)
        #expect(Deadline.after(.seconds(-5)).hasPassed)
        #expect(Deadline.after(.seconds(Int64.min)).hasPassed)
        #expect(Deadline.nanoseconds(of: .milliseconds(-1)) == 0)
    }

    @Test("ordinary timeouts convert exactly")
    func ordinary() {
        #expect(Deadline.nanoseconds(of: .milliseconds(1500)) == 1_500_000_000)
        #expect(Deadline.nanoseconds(of: .nanoseconds(7)) == 7)
        let deadline = Deadline.after(.seconds(10))
        #expect(!deadline.hasPassed)
        #expect(deadline.nanoseconds > Deadline.now.nanoseconds + 9_000_000_000)
    }

    @Test(
        "TimeInterval conversions never trap",
        arguments: [
            (Double.nan, Duration?.some(.zero)),
            (-1.0, .some(.zero)),
            (0.0, .some(.zero)),
            (0.25, .some(.milliseconds(250))),
            (Double.infinity, nil),
            (1e300, nil),
            (-Double.infinity, .some(.zero)),
        ]
    )
    func timeIntervals(seconds: Double, expected: Duration?) {
        #expect(Deadline.duration(fromSeconds: seconds) == expected)
    }
}
