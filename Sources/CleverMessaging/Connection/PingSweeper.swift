import NIOConcurrencyHelpers
import NIOCore

/// One timer per event loop that pings the linked connections of that loop
/// when they are due (``ConnectionConfiguration/pingInterval``) and drops the
/// links whose ping went unanswered.
///
/// A repeated timer per connection costs little with ten peers and a lot with
/// ten thousand: every run re-inserts it into the event loop's timer heap
/// (copying tasks on every level), and cancelling one at disconnect searches
/// the whole heap. A sweep per tick walks the loop's linked connections
/// instead; each one decides in ``Connection/pingIfDue(now:)`` whether a
/// ping is due, so pings stay spread as the connections came up.
///
/// The sweeper of a loop exists while at least one connection of that loop
/// is linked, and stops its timer when the last one goes.
enum PingSweeper {
    private struct Sweep {
        let loop: any EventLoop
        var members: [Int: Connection] = [:]
        var tick: TimeAmount
        var task: RepeatedTask?
    }

    /// Every loop's sweep, by the loop's identity (a sweep holds its loop, so the identity is not reused while it is listed).
    private static let sweeps = NIOLockedValueBox<[ObjectIdentifier: Sweep]>([:])

    /// The sweep period for a configuration: a quarter of the shorter of the
    /// interval and the timeout, between 5 ms and 250 ms, so that a ping is
    /// never late by more than that and a dead link is dropped within the
    /// timeout plus one tick.
    static func tick(for configuration: ConnectionConfiguration) -> TimeAmount? {
        guard let interval = configuration.pingInterval else { return nil }
        let shorter = min(interval, configuration.pingTimeout)
        return min(max(.nanoseconds(shorter.nanoseconds / 4), .milliseconds(5)), .milliseconds(250))
    }

    /// Adds a linked connection to its loop's sweep. Runs on the connection's event loop.
    static func add(_ connection: Connection, tick: TimeAmount) {
        let loop = connection.eventLoop
        let key = ObjectIdentifier(loop)
        sweeps.withLockedValue { sweeps in
            // Mutated in place: a copy of the sweep would copy its member table on every link.
            sweeps[key, default: Sweep(loop: loop, tick: tick)].members[connection.number] = connection
            let (task, current) = (sweeps[key]!.task, sweeps[key]!.tick)
            if task == nil || tick < current {
                // A member that needs a finer tick restarts the timer (rare: configurations usually agree).
                task?.cancel()
                let period = min(current, tick)
                sweeps[key]!.tick = period
                sweeps[key]!.task = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
                    PingSweeper.run(key)
                }
            }
        }
    }

    /// Removes a connection from its loop's sweep; the last one stops the timer.
    static func remove(_ connection: Connection) {
        let key = ObjectIdentifier(connection.eventLoop)
        sweeps.withLockedValue { sweeps in
            guard sweeps[key]?.members.removeValue(forKey: connection.number) != nil else { return }
            if let sweep = sweeps[key], sweep.members.isEmpty {
                sweep.task?.cancel()
                sweeps[key] = nil
            }
        }
    }

    /// How many connections the sweep of `loop` holds (for tests).
    static func memberCount(on loop: any EventLoop) -> Int {
        sweeps.withLockedValue { $0[ObjectIdentifier(loop)]?.members.count ?? 0 }
    }

    /// One tick: every member decides whether to ping or to give up on its link.
    private static func run(_ key: ObjectIdentifier) {
        let members = sweeps.withLockedValue { $0[key].map { Array($0.members.values) } } ?? []
        let now = NIODeadline.now()
        for connection in members { connection.pingIfDue(now: now) }
    }
}
