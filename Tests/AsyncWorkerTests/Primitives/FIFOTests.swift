import Testing

@testable import AsyncWorker

@Suite("FIFO: the prefetch buffer's queue")
struct FIFOTests {
    @Test("elements come out in order across compactions, with appends and pops interleaved")
    func orderAcrossCompactions() {
        var queue = FIFO<Int>()
        var expected: [Int] = []
        var next = 0
        var popped: [Int] = []
        // Uneven bursts: the head passes the compaction threshold many times with elements still queued.
        for burst in 1...200 {
            for _ in 0..<(burst % 7 + 1) {
                queue.append(next)
                expected.append(next)
                next += 1
            }
            for _ in 0..<(burst % 5) where !queue.isEmpty {
                popped.append(queue.popFirst())
            }
            #expect(queue.count == expected.count - popped.count)
        }
        while !queue.isEmpty { popped.append(queue.popFirst()) }
        #expect(popped == expected)
        #expect(queue.count == 0)
    }

    @Test("a popped element is released at once, not at the next compaction")
    func releasesPoppedElements() {
        final class Token {}
        var queue = FIFO<Token>()
        weak var first: Token?
        do {
            let token = Token()
            first = token
            queue.append(token)
            queue.append(Token())
            queue.append(Token())
        }
        _ = queue.popFirst()
        #expect(first == nil)
        #expect(queue.count == 2)
    }
}
