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
        /// With the connection of a link that is up.
        case attached(WeakConnection)
        /// Kept for the client's next link, since `since`.
        case stored(DeliverySession, since: NIODeadline)
    }

    /// A connection, not kept alive by the table.
    private struct WeakConnection: Sendable {
        weak var connection: Connection?
    }

    private let table = NIOLockedValueBox<[String: Place]>([:])
    let configuration: DeliveryConfiguration

    /// An empty table.
    /// - Parameter configuration: the bounds and the sessions' settings.
    init(configuration: DeliveryConfiguration) {
        self.configuration = configuration
    }

    deinit {
        removeAll()
    }

    /// How many sessions are kept for clients whose link is down.
    var storedCount: Int {
        table.withLockedValue { $0.values.reduce(0) { if case .stored = $1 { $0 + 1 } else { $0 } } }
    }

    /// A client's link offered session `id`: its session, taken from the
    /// table, or from the connection of the client's previous link if that one
    /// is still up (a link that died without the server noticing: it is closed),
    /// or a new one.
    /// - Parameters:
    ///   - id: the session id.
    ///   - connection: the connection of the new link.
    ///   - now: the present.
    /// - Returns: the session, now attached to `connection`.
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
            expired = Self.removeExpired(&table, now: now, lifetime: configuration.sessionLifetime)
            let place = table[id]
            table[id] = .attached(WeakConnection(connection: connection))
            var found: DeliverySession?
            switch place {
            case .stored(let session, _): found = session
            case .attached(let weak):
                if let previous = weak.connection, previous !== connection { found = previous.surrenderDelivery(to: connection) }
            case nil: break
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

    /// The link of `connection` went down: its session is kept for the client's next link.
    /// - Parameters:
    ///   - session: the session.
    ///   - connection: the connection it was attached to.
    ///   - now: the present.
    func store(_ session: DeliverySession, from connection: Connection, now: NIODeadline) {
        var dropped: [DeliverySession] = []
        table.withLockedValue { table in
            if case .attached(let weak) = table[session.id], let other = weak.connection, other !== connection {
                // Claimed meanwhile by the client's next link: that one has it (this copy is stale).
                dropped.append(session)
                return
            }
            table[session.id] = .stored(session, since: now)
            dropped = Self.removeExpired(&table, now: now, lifetime: configuration.sessionLifetime)
            dropped += Self.removeOldest(&table, keeping: configuration.maximumSessions)
        }
        Self.fail(dropped)
    }

    /// Forgets every session (the server stops); their waiting receipts fail.
    func removeAll() {
        let all = table.withLockedValue { table -> [DeliverySession] in
            defer { table.removeAll() }
            return table.values.compactMap { if case .stored(let session, _) = $0 { session } else { nil } }
        }
        Self.fail(all)
    }

    private static func removeExpired(_ table: inout [String: Place], now: NIODeadline, lifetime: Duration) -> [DeliverySession] {
        let limit = TimeAmount(lifetime)
        var gone: [DeliverySession] = []
        for (id, place) in table {
            if case .stored(let session, let since) = place, now - since > limit {
                table[id] = nil
                gone.append(session)
            }
        }
        return gone
    }

    private static func removeOldest(_ table: inout [String: Place], keeping limit: Int) -> [DeliverySession] {
        var stored = table.compactMap { id, place -> (String, NIODeadline)? in
            if case .stored(_, let since) = place { (id, since) } else { nil }
        }
        guard stored.count > limit else { return [] }
        stored.sort { $0.1 < $1.1 }
        var gone: [DeliverySession] = []
        for (id, _) in stored.prefix(stored.count - limit) {
            if case .stored(let session, _) = table.removeValue(forKey: id) { gone.append(session) }
        }
        return gone
    }

    private static func fail(_ sessions: [DeliverySession]) {
        for var session in sessions {
            for promise in session.window.removeAll() { promise.fail(MessagingError.connectionLost) }
        }
    }
}
