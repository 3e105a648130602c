/// The client's subscriptions as a value: ids, subjects, queue groups and
/// max-messages auto-unsubscribe counts, with what to replay after a reconnect.
///
/// `Sink` is whatever receives a subscription's messages (a stream continuation
/// in the client, a plain value in tests).
struct NATSSubscriptionTable<Sink> {
    struct Entry {
        var subject: String
        var queueGroup: String?
        var sink: Sink
        var delivered = 0
        var maximum: Int?
    }

    /// One `SUB` (and `UNSUB sid max`) to send to a new connection.
    struct Replay: Hashable {
        var sid: UInt64
        var subject: String
        var queueGroup: String?
        var remaining: Int?
    }

    enum Delivery {
        /// Deliver to `sink`; when `last`, the subscription has reached its maximum and is removed.
        case deliver(Sink, last: Bool)
        /// No such subscription (a message in flight after an unsubscribe).
        case unknown
    }

    private(set) var entries: [UInt64: Entry] = [:]
    private var nextSID: UInt64 = 1

    var count: Int { entries.count }

    mutating func add(subject: String, queueGroup: String?, sink: Sink) -> UInt64 {
        let sid = nextSID
        nextSID += 1
        entries[sid] = Entry(subject: subject, queueGroup: queueGroup, sink: sink)
        return sid
    }

    func entry(_ sid: UInt64) -> Entry? { entries[sid] }

    mutating func deliver(sid: UInt64) -> Delivery {
        guard var entry = entries[sid] else { return .unknown }
        entry.delivered += 1
        if let maximum = entry.maximum, entry.delivered >= maximum {
            entries[sid] = nil
            return .deliver(entry.sink, last: true)
        }
        entries[sid] = entry
        return .deliver(entry.sink, last: false)
    }

    /// Unsubscribes after `maximum` messages in all (nil: now). Returns the removed
    /// entry when the subscription ends now (already had that many), nil when it stays.
    mutating func unsubscribe(sid: UInt64, after maximum: Int?) -> Entry? {
        guard var entry = entries[sid] else { return nil }
        if let maximum, entry.delivered < maximum {
            entry.maximum = maximum
            entries[sid] = entry
            return nil
        }
        entries[sid] = nil
        return entry
    }

    /// Removes every subscription, returning them.
    mutating func removeAll() -> [Entry] {
        defer { entries = [:] }
        return Array(entries.values)
    }

    /// The subscriptions to send again on a new connection, in id order.
    var replay: [Replay] {
        entries.keys.sorted().map { sid in
            let entry = entries[sid]!
            return Replay(
                sid: sid, subject: entry.subject, queueGroup: entry.queueGroup,
                remaining: entry.maximum.map { $0 - entry.delivered })
        }
    }
}
