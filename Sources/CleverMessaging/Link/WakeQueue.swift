import NIOCore

/// The wake-ups of many links, in deadline order, for one timer to serve.
///
/// Each link asks to be woken at a deadline for one ``Kind`` of work. The
/// deadlines of one kind mostly come in order (a ping interval, an
/// acknowledgement interval or a request timeout added to the present), so
/// each kind keeps its own ``DeadlineQueue``, where an in-order wake-up costs
/// O(1); the earliest of the kinds' first deadlines is the next wake-up. A
/// wake-up is never cancelled: the woken link checks its own deadlines and
/// asks again for what is not due yet.
///
/// A pure value: time comes in as the `now` argument.
package struct WakeQueue<Item> {
    /// What a link is woken for; each kind's deadlines are kept apart.
    package enum Kind: Int, CaseIterable, Sendable {
        /// A handshake's deadline.
        case handshake
        /// A liveness check (pings, a silent peer).
        case liveness
        /// An acknowledgement owed.
        case acknowledgement
        /// The earliest deadline of a link's pending requests.
        case requests
    }

    /// A wake-up: its deadline, the order it was asked in (for equal
    /// deadlines), and whom to wake.
    private struct Entry: Comparable {
        var deadline: NIODeadline
        var order: UInt64
        var item: Item

        static func < (a: Entry, b: Entry) -> Bool {
            a.deadline < b.deadline || (a.deadline == b.deadline && a.order < b.order)
        }

        static func == (a: Entry, b: Entry) -> Bool {
            a.deadline == b.deadline && a.order == b.order
        }
    }

    private var queues = Array(repeating: DeadlineQueue<Entry>(), count: Kind.allCases.count)
    private var asked: UInt64 = 0

    /// An empty queue.
    package init() {}

    /// How many wake-ups wait.
    package var count: Int { queues.reduce(0) { $0 + $1.count } }

    /// The earliest deadline waiting, if any.
    package var next: NIODeadline? {
        var earliest: NIODeadline?
        for queue in queues {
            if let first = queue.min, earliest.map({ first.deadline < $0 }) ?? true { earliest = first.deadline }
        }
        return earliest
    }

    /// Asks for `item` to be woken at `deadline`.
    /// - Parameters:
    ///   - item: whom to wake.
    ///   - deadline: when.
    ///   - kind: what for.
    package mutating func insert(_ item: Item, at deadline: NIODeadline, kind: Kind) {
        asked &+= 1
        queues[kind.rawValue].insert(Entry(deadline: deadline, order: asked, item: item))
    }

    /// Takes every wake-up due by `now`, earliest first within each kind.
    /// - Parameter now: the present.
    /// - Returns: whom to wake (one item may come more than once).
    package mutating func removeDue(now: NIODeadline) -> [Item] {
        var due: [Item] = []
        for index in queues.indices {
            while let first = queues[index].min, first.deadline <= now {
                due.append(first.item)
                queues[index].removeMin()
            }
        }
        return due
    }
}
