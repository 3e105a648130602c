import DequeModule
import NIOConcurrencyHelpers
import NIOCore

/// A server's table of acknowledged-delivery sessions, by the session id a
/// client's connection made: for each, the actions sent to the client and not
/// acknowledged (with their receipts' promises) and how far the client's
/// actions were received. A server-side connection ends with its link; when
/// the same client comes back (a new connection, the same session id in its
/// handshake), its session is given to the new connection, which resends what
/// the client has not received and drops what it sends again.
///
/// Bounded by count (``DeliveryConfiguration/maximumSessions``: the session
/// stored longest ago goes first) and by age (``DeliveryConfiguration/sessionLifetime``);
/// a session that goes fails the receipts still waiting with ``MessagingError/connectionLost``.
package final class DeliverySessions: Sendable {
    /// Where a session is.
    private enum Place: Sendable {
        /// With the connection (by its ``Connection/number``) of a link that is up.
        case attached(connection: Int)
        /// Kept for the client's next link, since `since`; `order` tells this
        /// storing from an earlier one of the same session in ``Table/storedOrder``.
        case stored(DeliverySession, since: NIODeadline, order: UInt64)
    }

    private struct Table {
        var places: [String: Place] = [:]
        /// The stored sessions in the order they were stored (by id and
        /// `order`; an entry whose session was claimed or stored again since is
        /// skipped): the oldest is first, so expiring and evicting cost O(1) each.
        var storedOrder = Deque<(id: String, since: NIODeadline, order: UInt64)>()
        var storedCount = 0
        var nextOrder: UInt64 = 0
    }

    private let table = NIOLockedValueBox(Table())
    /// The server's live connection with a number, if any (no reference to a
    /// connection is kept here, neither strong nor weak: a weak one would give
    /// every connection a side table and slow down each of its retains).
    private let connection: @Sendable (Int) -> Connection?
    let configuration: DeliveryConfiguration

    /// An empty table.
    /// - Parameters:
    ///   - configuration: the bounds and the sessions' settings.
    ///   - connection: finds the server's live connection with a number.
    init(configuration: DeliveryConfiguration, connection: @escaping @Sendable (Int) -> Connection?) {
        self.configuration = configuration
        self.connection = connection
    }

    deinit {
        removeAll()
    }

    /// How many sessions are stored (their client has no link).
    var storedCount: Int {
        table.withLockedValue { $0.storedCount }
    }

    /// The session `id` for `connection`, whose client offered it: the stored
    /// one, the one a live connection of the same client holds (taken from
    /// it), or a new one.
    func claim(_ id: String, for connection: Connection, now: NIODeadline) -> DeliverySession {
        claim(id, for: connection, now: now) { $0 }
    }

    /// A client's link offered session `id`: its session (see
    /// ``claim(_:for:now:)``), handed to `attach` under the table's lock, so
    /// that an action passed on by the connection that gave the session up
    /// (``passOn(_:)``) finds it attached to `connection`.
    /// - Parameters:
    ///   - id: the session id.
    ///   - connection: the connection of the new link.
    ///   - now: the present.
    ///   - attach: attaches the session to `connection` (may take its state lock, no other connection's).
    /// - Returns: what `attach` returns.
    func claim<T>(_ id: String, for connection: Connection, now: NIODeadline, attach: (DeliverySession) -> T) -> T {
        var expired: [DeliverySession] = []
        // Lock order: the table, then a connection's state (a connection never takes the table's lock under its own).
        let attached = table.withLockedValue { table -> T in
            expired = Self.removeStale(&table, now: now, lifetime: configuration.sessionLifetime, keeping: configuration.maximumSessions)
            let place = table.places[id]
            table.places[id] = .attached(connection: connection.number)
            var found: DeliverySession?
            switch place {
            case .stored(let session, _, _):
                table.storedCount -= 1
                found = session
            case .attached(let number):
                if number != connection.number, let previous = self.connection(number) { found = previous.surrenderDelivery(to: connection) }
            case nil:
                break
            }
            return attach(found ?? DeliverySession(id: id, configuration: configuration))
        }
        Self.fail(expired)
        return attached
    }

    /// Runs `body`, which queues an action on the connection a session went to
    /// (for the connection that gave it up), under the table's lock: the action
    /// never comes between the session leaving one connection and attaching to
    /// the next (``claim(_:for:now:attach:)``), so it is numbered in the session.
    /// - Parameter body: queues the action; takes one connection's state lock.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws.
    func passOn<T>(_ body: () throws(MessagingError) -> T) throws(MessagingError) -> T {
        try table.withLockedValue { _ in Result { () throws(MessagingError) in try body() } }.get()
    }

    /// Keeps `session`, whose link (of `connection`) went down, for the client's next link.
    func store(_ session: DeliverySession, from connection: Connection, now: NIODeadline) {
        store(from: connection, now: now) { session }
    }

    /// Takes the session of `connection`, whose link went down, and keeps it
    /// for the client's next link, in one step under the table's lock: a claim
    /// by the client's next link (on another event loop) either took the
    /// session from the connection before, or finds it stored after; it never
    /// comes between the session leaving the connection and entering the
    /// table, where it would find neither and start the session anew (the
    /// client's actions would then run again, and the stored copy be dropped
    /// as stale).
    /// - Parameters:
    ///   - connection: the connection whose link went down.
    ///   - now: the present.
    func store(takingFrom connection: Connection, now: NIODeadline) {
        store(from: connection, now: now) { connection.takeDelivery() }
    }

    /// Stores what `take` gives (under the table's lock), unless the session was claimed meanwhile.
    private func store(from connection: Connection, now: NIODeadline, take: () -> DeliverySession?) {
        var dropped: [DeliverySession] = []
        table.withLockedValue { table in
            // Lock order: the table, then the connection's state (in `take`).
            guard let session = take() else { return }
            switch table.places[session.id] {
            case .attached(let number) where number != connection.number:
                // Claimed meanwhile by the client's next link: that one has it (this copy is stale).
                dropped.append(session)
                return
            case .stored:
                table.storedCount -= 1
            default:
                break
            }
            table.nextOrder += 1
            table.places[session.id] = .stored(session, since: now, order: table.nextOrder)
            table.storedOrder.append((session.id, now, table.nextOrder))
            table.storedCount += 1
            dropped = Self.removeStale(&table, now: now, lifetime: configuration.sessionLifetime, keeping: configuration.maximumSessions)
        }
        Self.fail(dropped)
    }

    /// Ends every stored session (the server stops).
    func removeAll() {
        let all = table.withLockedValue { table -> [DeliverySession] in
            defer { table = Table() }
            return table.places.values.compactMap { if case .stored(let session, _, _) = $0 { session } else { nil } }
        }
        Self.fail(all)
    }

    /// Removes the stored sessions older than `lifetime`, then the oldest
    /// ones beyond `limit`, from the front of the storing order.
    private static func removeStale(_ table: inout Table, now: NIODeadline, lifetime: Duration, keeping limit: Int) -> [DeliverySession] {
        let maximumAge = TimeAmount(lifetime)
        var gone: [DeliverySession] = []
        while let first = table.storedOrder.first {
            guard case .stored(let session, _, let order) = table.places[first.id], order == first.order else {
                // Claimed, or stored again later: a stale entry.
                table.storedOrder.removeFirst()
                continue
            }
            guard now - first.since > maximumAge || table.storedCount > limit else { break }
            table.storedOrder.removeFirst()
            table.places[first.id] = nil
            table.storedCount -= 1
            gone.append(session)
        }
        return gone
    }

    private static func fail(_ sessions: [DeliverySession]) {
        for var session in sessions {
            _ = session.window.removeAll()
            session.ledger.fail(.connectionLost)
        }
    }
}
