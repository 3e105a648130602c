import NIOConcurrencyHelpers
import NIOCore

/// The one liveness timer of a link, replaced without being cancelled:
/// cancelling a NIO timer searches the loop's whole timer queue, which with
/// thousands of links on a loop made every disconnect costly. A replaced or
/// stale timer fires, finds that its generation is not the current one, and
/// does nothing.
struct TimerSlot {
    /// The generation of the current timer.
    private(set) var generation = 0
    /// When the current timer fires (`nil`: none armed).
    private(set) var armed: NIODeadline?

    /// Makes `deadline` the slot's timer, unless one that fires no later is armed.
    /// - Returns: the new timer's generation, or `nil` when no timer is to be scheduled.
    mutating func arm(_ deadline: NIODeadline) -> Int? {
        if let armed, armed <= deadline { return nil }
        generation &+= 1
        armed = deadline
        return generation
    }

    /// Forgets the armed timer: when it fires, it finds a newer generation.
    mutating func disarm() {
        generation &+= 1
        armed = nil
    }

    /// The timer of `generation` fired.
    /// - Returns: whether it is the current one (then the slot is empty again).
    mutating func fired(_ generation: Int) -> Bool {
        guard generation == self.generation else { return false }
        armed = nil
        return true
    }
}

extension Connection {
    /// Schedules a link timer for `deadline` that calls `fire` with the
    /// connection, the timer's generation and the time it fired (never earlier
    /// than `deadline`). The timer holds the target and the loop, never the connection.
    func scheduleLinkTimer(
        _ deadline: NIODeadline,
        generation: Int,
        target: LinkTimerTarget,
        _ fire: @escaping @Sendable (Connection, Int, NIODeadline) -> Void
    ) {
        eventLoop.scheduleTask(deadline: deadline) { [eventLoop] in
            let now = eventLoop.now
            if let connection = target.connection { fire(connection, generation, max(now, deadline)) }
        }
    }
}

/// What a link's timers (liveness, handshake) reach when they fire: the connection while its link
/// is open, nothing after. A timer holds this, not the connection, so that a
/// stale timer keeps no connection alive; the link's end clears it.
final class LinkTimerTarget: Sendable {
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
}
