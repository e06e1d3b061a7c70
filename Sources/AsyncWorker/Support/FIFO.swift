/// A first-in, first-out queue with O(1) amortised `popFirst` (`Array.removeFirst` moves every other
/// element, which made a large `prefetch` quadratic). Consumed slots are cleared at once and compacted
/// when they make up half the storage.
@usableFromInline
struct FIFO<Element> {
    @usableFromInline var storage: [Element?] = []
    @usableFromInline var head = 0

    @inlinable init() {}

    @inlinable var count: Int { storage.count - head }
    @inlinable var isEmpty: Bool { head == storage.count }

    @inlinable mutating func reserveCapacity(_ capacity: Int) {
        storage.reserveCapacity(capacity)
    }

    @inlinable mutating func append(_ element: Element) {
        storage.append(element)
    }

    /// Removes and returns the oldest element. The queue must not be empty.
    @inlinable mutating func popFirst() -> Element {
        precondition(!isEmpty, "popFirst on an empty FIFO")
        let element = storage[head].take()!
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}
