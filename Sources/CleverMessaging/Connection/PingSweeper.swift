import NIOConcurrencyHelpers
import NIOCore

/// One timer per event loop that pings the linked connections of that loop
/// when they are due (``ConnectionConfiguration/pingInterval``) and drops the
/// links whose ping went unanswered.
///
/// A repeated timer per connection costs little with ten peers and a lot with
/// ten thousand: every run re-inserts it into the event loop's timer heap
/// (copying tasks on every level), and cancelling one at disconnect searches
/// the whole heap. The sweep instead keeps its connections in buckets by the
/// tick at which each wants to be looked at again; a tick takes out only
/// the buckets that are due, so its cost follows the pings sent, not the
/// connections held. Each connection decides in ``Connection/pingIfDue(now:)``
/// what to do and when it wants the next look, so pings stay spread as the
/// connections came up.
///
/// The sweep of a loop exists while at least one connection of that loop
/// is linked, and stops its timer when the last one goes.
enum PingSweeper {
    /// A connection in a sweep; `generation` tells a bucket entry from a
    /// stale one left by an earlier link of the same connection.
    private struct Member {
        let connection: Connection
        let generation: Int
        var ticket: Ticket { Ticket(number: connection.number, generation: generation) }
    }

    /// A bucket entry: which member, and which of its links. It holds no
    /// reference, so a stale entry keeps no connection alive.
    private struct Ticket {
        let number: Int
        let generation: Int
    }

    private struct Sweep {
        let loop: any EventLoop
        var members: [Int: Member] = [:]
        /// Members by the tick number at which they want the next look.
        var buckets: [Int64: [Ticket]] = [:]
        /// The first tick number not taken out yet.
        var nextSlot: Int64
        var tick: TimeAmount
        var task: RepeatedTask?
        var generation = 0

        init(loop: any EventLoop, tick: TimeAmount) {
            self.loop = loop
            self.tick = tick
            self.nextSlot = Sweep.slot(of: .now(), tick: tick)
        }

        /// The tick number of `deadline`, rounded up (a look is never early).
        static func slot(of deadline: NIODeadline, tick: TimeAmount) -> Int64 {
            let period = UInt64(tick.nanoseconds)
            return Int64((deadline.uptimeNanoseconds + period - 1) / period)
        }

        mutating func schedule(_ member: Member, at deadline: NIODeadline) {
            buckets[max(Self.slot(of: deadline, tick: tick), nextSlot), default: []].append(member.ticket)
        }

        /// The member a ticket stands for, if that link is still the member's current one.
        func member(for ticket: Ticket) -> Member? {
            guard let member = members[ticket.number], member.generation == ticket.generation else { return nil }
            return member
        }
    }

    /// Every loop's sweep, by the loop's identity (a sweep holds its loop, so the identity is not reused while it is listed).
    private static let sweeps = NIOLockedValueBox<[ObjectIdentifier: Sweep]>([:])

    /// The sweep period for a configuration: a quarter of the shorter of the
    /// interval and the timeout, between 5 ms and 1 s, so that a ping is
    /// never late by more than that and a dead link is dropped within the
    /// timeout plus one tick.
    static func tick(for configuration: ConnectionConfiguration) -> TimeAmount? {
        guard let interval = configuration.pingInterval else { return nil }
        let shorter = min(interval, configuration.pingTimeout)
        return min(max(.nanoseconds(shorter.nanoseconds / 4), .milliseconds(5)), .seconds(1))
    }

    /// Adds a linked connection to its loop's sweep, to be looked at first at
    /// `firstLook`. Runs on the connection's event loop.
    static func add(_ connection: Connection, tick: TimeAmount, firstLook: NIODeadline) {
        let loop = connection.eventLoop
        let key = ObjectIdentifier(loop)
        sweeps.withLockedValue { sweeps in
            // Mutated in place: a copy of the sweep would copy its tables on every link.
            sweeps[key, default: Sweep(loop: loop, tick: tick)].generation += 1
            let member = Member(connection: connection, generation: sweeps[key]!.generation)
            sweeps[key]!.members[connection.number] = member
            let (task, current) = (sweeps[key]!.task, sweeps[key]!.tick)
            if task == nil || tick < current {
                // A member that needs a finer tick restarts the timer (rare: configurations usually
                // agree); every member gets a look at the next tick and finds its new bucket then.
                task?.cancel()
                let period = min(current, tick)
                sweeps[key]!.tick = period
                sweeps[key]!.nextSlot = Sweep.slot(of: .now(), tick: period)
                sweeps[key]!.buckets = [:]
                for other in sweeps[key]!.members.values { sweeps[key]!.schedule(other, at: .now()) }
                sweeps[key]!.task = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
                    PingSweeper.run(key, now: .now())
                }
            } else {
                sweeps[key]!.schedule(member, at: firstLook)
            }
        }
    }

    /// Removes a connection from its loop's sweep; the last one stops the timer.
    /// Its bucket entry is left behind and skipped when its tick comes.
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

    /// How many bucket entries the sweep of `loop` holds, stale ones included (for tests).
    static func scheduledCount(on loop: any EventLoop) -> Int {
        sweeps.withLockedValue { $0[ObjectIdentifier(loop)]?.buckets.values.reduce(0) { $0 + $1.count } ?? 0 }
    }

    /// Runs one tick of `loop`'s sweep as if at `now` (the timer does this; tests call it). Runs on `loop`.
    static func sweep(_ loop: any EventLoop, now: NIODeadline) {
        run(ObjectIdentifier(loop), now: now)
    }

    /// One tick: the members whose look is due decide whether to ping or to
    /// give up on their link, and say when they want the next look.
    private static func run(_ key: ObjectIdentifier, now: NIODeadline) {
        let due = sweeps.withLockedValue { sweeps -> [Member] in
            guard sweeps[key] != nil else { return [] }
            // Every deadline in a tick up to `last` has passed (a slot holds the deadlines up to its end).
            let last = Int64(now.uptimeNanoseconds / UInt64(sweeps[key]!.tick.nanoseconds))
            var due: [Member] = []
            var slot = sweeps[key]!.nextSlot
            while slot <= last {
                if let bucket = sweeps[key]!.buckets.removeValue(forKey: slot) {
                    due += bucket.compactMap { sweeps[key]!.member(for: $0) }
                }
                slot += 1
            }
            sweeps[key]!.nextSlot = max(sweeps[key]!.nextSlot, last + 1)
            return due
        }
        guard !due.isEmpty else { return }
        // Outside the lock: a ping that gives up closes the link, and the link's end removes its connection.
        let looks = due.map { ($0, $0.connection.pingIfDue(now: now)) }
        sweeps.withLockedValue { sweeps in
            guard sweeps[key] != nil else { return }
            for (member, next) in looks {
                guard let next, sweeps[key]!.member(for: member.ticket) != nil else { continue }
                sweeps[key]!.schedule(member, at: next)
            }
        }
    }
}
