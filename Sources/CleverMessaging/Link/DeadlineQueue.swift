import DequeModule
import HeapModule

/// A min-priority queue for items that mostly arrive in increasing order, as
/// the deadlines of a connection's requests do (each is "now + timeout", and
/// most requests share one timeout).
///
/// An item not below the last one in arrival order is appended to a
/// first-in-first-out queue, so it costs O(1) to add and to remove, with no
/// sifting through a large heap; only an item that arrives earlier than that
/// one (a shorter timeout after longer ones) goes to a heap beside it.
package struct DeadlineQueue<Item: Comparable> {
    /// Items in increasing order.
    private var ordered = Deque<Item>()
    /// The items that arrived below the end of `ordered`.
    private var others = Heap<Item>()

    /// An empty queue.
    package init() {}

    /// The number of items.
    package var count: Int { ordered.count + others.count }

    /// Adds `item`.
    package mutating func insert(_ item: Item) {
        if let last = ordered.last, item < last {
            others.insert(item)
        } else {
            ordered.append(item)
        }
    }

    /// The least item, if any.
    package var min: Item? {
        guard let first = ordered.first else { return others.min }
        guard let other = others.min else { return first }
        return other < first ? other : first
    }

    /// Removes the least item (none when empty).
    package mutating func removeMin() {
        guard let first = ordered.first else {
            _ = others.popMin()
            return
        }
        if let other = others.min, other < first {
            _ = others.popMin()
        } else {
            ordered.removeFirst()
        }
    }

    /// Keeps only the items for which `isIncluded` holds.
    package mutating func filter(_ isIncluded: (Item) -> Bool) {
        ordered = Deque(ordered.filter(isIncluded))
        others = Heap(others.unordered.filter(isIncluded))
    }
}

extension DeadlineQueue: Sendable where Item: Sendable {}
