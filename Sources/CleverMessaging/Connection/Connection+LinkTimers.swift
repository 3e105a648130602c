import NIOConcurrencyHelpers
import NIOCore

/// One timer of a connection (liveness, handshake, acknowledgements, request deadlines),
/// replaced without being cancelled: cancelling a NIO timer searches the
/// loop's whole timer queue, which with thousands of links on a loop made
/// every disconnect costly. A timer that fires finds out from the slot
/// whether anything is due: a replaced or stale one finds that nothing is.
struct TimerSlot {
    /// When the current timer fires (`nil`: none armed).
    private(set) var armed: NIODeadline?

    /// Makes `deadline` the slot's timer, unless one that fires no later is armed.
    /// - Returns: whether a timer must be scheduled for `deadline`.
    mutating func arm(_ deadline: NIODeadline) -> Bool {
        if let armed, armed <= deadline { return false }
        armed = deadline
        return true
    }

    /// Forgets the armed timer: when it fires, it finds nothing due.
    mutating func disarm() {
        armed = nil
    }

    /// A timer fired at `now`.
    /// - Returns: whether the slot's timer is due (then the slot is empty again).
    ///   A stale timer that fires after the slot's deadline serves for it; the
    ///   slot's own timer then finds nothing.
    mutating func fire(now: NIODeadline) -> Bool {
        guard let armed, armed <= now else { return false }
        self.armed = nil
        return true
    }
}

extension Connection {
    /// Asks the event loop's ``LinkTimerQueue`` to wake the link at
    /// `deadline`: the wake-up reaches the connection through `target` (never
    /// holding the connection), and the connection asks each of the link's
    /// slots whether it is due.
    /// - Parameters:
    ///   - deadline: when.
    ///   - target: the link's target.
    ///   - kind: what for (each kind's deadlines are kept in their own order).
    func scheduleLinkTimer(_ deadline: NIODeadline, target: LinkTimerTarget, kind: WakeQueue<any LinkWakeTarget>.Kind) {
        timerQueue.schedule(target, at: deadline, kind: kind)
    }

    /// A link timer fired: each slot that is due acts. Runs on the event loop.
    func linkTimerFired(now: NIODeadline) {
        handshakeTimerFired(now: now)
        livenessTimerFired(now: now)
        ackTimerFired(now: now)
    }
}

/// What a link's timers (liveness, handshake) reach when they fire: the connection while its link
/// is open, nothing after. A timer holds this, not the connection, so that a
/// stale timer keeps no connection alive; the link's end clears it.
final class LinkTimerTarget: LinkWakeTarget {
    private let box: NIOLockedValueBox<Connection?>

    init(_ connection: Connection) {
        box = NIOLockedValueBox(connection)
    }

    /// The connection, while its link is open.
    var connection: Connection? { box.withLockedValue { $0 } }

    /// The link ended: timers find nothing any more.
    func clear() {
        box.withLockedValue { $0 = nil }
    }

    /// A deadline of the link came.
    func wake(now: NIODeadline) {
        connection?.linkTimerFired(now: now)
    }
}
