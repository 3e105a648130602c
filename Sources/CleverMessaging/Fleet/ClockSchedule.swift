/// When each drone's clock is measured next, for one loop that serves the
/// whole fleet: the loop asks for the drones due (``take(now:limit:)``),
/// measures them, reports each one done (``finished(_:now:succeeded:)``), and
/// sleeps until ``nextDue``. A drone is measured at once when its link opens
/// (``linked(_:now:)``), then every `interval`; a failed measurement is tried
/// again after `retryDelay`. Time is an input.
///
/// Deadlines are kept in a ``DeadlineQueue`` (most arrive in increasing
/// order, "now + interval"), so taking the drones due costs O(log n) each and
/// nothing for the others; a superseded deadline is skipped when it comes up.
package struct ClockSchedule: Sendable {
    private struct Deadline: Comparable, Sendable {
        var at: ContinuousClock.Instant
        var id: String
        var generation: Int

        static func < (a: Deadline, b: Deadline) -> Bool { a.at < b.at }
        static func == (a: Deadline, b: Deadline) -> Bool { a.at == b.at && a.id == b.id && a.generation == b.generation }
    }

    private enum Status: Sendable {
        /// Waiting for its deadline of this generation.
        case waiting(generation: Int)
        /// Being measured; `again`: its link opened anew meanwhile, measure it again at once.
        case measuring(again: Bool)
    }

    /// How often a drone is measured (`nil`: only when its link opens).
    package let interval: Duration?
    /// How soon a failed measurement is tried again.
    package let retryDelay: Duration
    private var deadlines = DeadlineQueue<Deadline>()
    private var drones: [String: Status] = [:]
    private var generation = 0

    /// A schedule.
    /// - Parameters:
    ///   - interval: how often a drone is measured (`nil`: only when its link opens).
    ///   - retryDelay: how soon a failed measurement is tried again (default 2 s, never later than `interval`).
    package init(interval: Duration?, retryDelay: Duration = .seconds(2)) {
        self.interval = interval
        self.retryDelay = interval.map { min($0, retryDelay) } ?? retryDelay
    }

    /// How many drones are scheduled or being measured.
    package var count: Int { drones.count }

    /// A drone's link opened: it is due at once.
    package mutating func linked(_ id: String, now: ContinuousClock.Instant) {
        if case .measuring = drones[id] {
            drones[id] = .measuring(again: true)
            return
        }
        schedule(id, at: now)
    }

    /// A drone's link closed: it is not measured until it opens again.
    package mutating func unlinked(_ id: String) {
        drones[id] = nil
    }

    /// Takes the drones due at `now`, earliest first, at most `limit`; they are
    /// being measured until ``finished(_:now:succeeded:)``.
    package mutating func take(now: ContinuousClock.Instant, limit: Int) -> [String] {
        var due: [String] = []
        while due.count < limit, let first = deadlines.min, first.at <= now {
            deadlines.removeMin()
            guard case .waiting(let generation) = drones[first.id], generation == first.generation else { continue }
            drones[first.id] = .measuring(again: false)
            due.append(first.id)
        }
        return due
    }

    /// A drone's measurement ended.
    /// - Parameters:
    ///   - id: the drone.
    ///   - now: when.
    ///   - succeeded: whether it gave an offset.
    package mutating func finished(_ id: String, now: ContinuousClock.Instant, succeeded: Bool) {
        guard case .measuring(let again) = drones[id] else { return }  // unlinked meanwhile
        if again { return schedule(id, at: now) }
        if succeeded {
            guard let interval else {
                drones[id] = nil
                return
            }
            schedule(id, at: now + interval)
        } else {
            schedule(id, at: now + retryDelay)
        }
    }

    /// The earliest deadline still to come (perhaps superseded: waking for it costs one look).
    package var nextDue: ContinuousClock.Instant? {
        deadlines.min?.at
    }

    /// Whether a drone is due at `now`.
    package func isDue(now: ContinuousClock.Instant) -> Bool {
        nextDue.map { $0 <= now } ?? false
    }

    private mutating func schedule(_ id: String, at instant: ContinuousClock.Instant) {
        generation += 1
        drones[id] = .waiting(generation: generation)
        deadlines.insert(Deadline(at: instant, id: id, generation: generation))
    }
}
