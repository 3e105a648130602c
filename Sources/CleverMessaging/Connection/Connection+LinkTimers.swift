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
    /// Schedules the link's timer callback for `deadline`: it reaches the
    /// connection through `target` (never holding the connection), and the
    /// connection asks each of the link's slots whether it is due.
    ///
    /// A callback, not a task: NIO keeps it as one entry of its timer queue
    /// with `target` as the handler, where a scheduled task costs a promise,
    /// a future and two closures.
    func scheduleLinkTimer(_ deadline: NIODeadline, target: LinkTimerTarget) {
        do {
            try eventLoop.scheduleCallback(at: deadline, handler: target)
        } catch {
            // The event loop is shutting down: the link goes with it.
            logger.debug("cannot schedule a link timer: \(error)", metadata: linkMetadata)
        }
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
final class LinkTimerTarget: NIOScheduledCallbackHandler, Sendable {
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

    /// A timer of the link fired.
    func handleScheduledCallback(eventLoop: some EventLoop) {
        connection?.linkTimerFired(now: eventLoop.now)
    }
}
