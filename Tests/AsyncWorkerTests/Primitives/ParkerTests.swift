import Dispatch
import Foundation
import Testing

@testable import AsyncWorker

@Suite("Parker and Latch")
struct ParkerTests {
    @Test("an unpark before the park is not lost")
    func permitIsKept() {
        let parker = Parker()
        parker.unpark()
        #expect(parker.park(until: Deadline.after(.seconds(10))))
    }

    @Test("park times out on the monotonic clock when nobody unparks")
    func parkTimesOut() {
        let parker = Parker()
        let start = ContinuousClock.now
        #expect(!parker.park(until: Deadline.after(.milliseconds(20))))
        #expect(ContinuousClock.now - start >= .milliseconds(19))
    }

    @Test("unpark from another thread wakes the parked thread")
    func crossThread() {
        let parker = Parker()
        let woke = watchdog {
            let thread = Thread { parker.unpark() }
            thread.start()
            return parker.park(until: .never)
        }
        #expect(woke == true)
    }

    @Test("a latch opens once for every waiter")
    func latch() {
        let latch = Latch()
        #expect(!latch.wait(until: Deadline.after(.milliseconds(5))))
        onRacingThreads(4) { index in
            if index == 0 { latch.open() } else { _ = latch.wait() }
        }
        #expect(latch.wait(until: Deadline.after(.zero)))
    }
}
