import NIOCore

/// The deadlines of a fan-out's requests on one event loop (a
/// ``RequestFanOut`` group), as a pure state machine: requests started
/// together with one timeout share one deadline, so the group sweeps them
/// with one timer instead of a deadline and a timer per request.
///
/// Positions are the group's (its requests in order); a run of positions is
/// added once its requests have started, with the deadline they share. Time
/// comes in as an argument.
package struct FanOutDeadlines: Sendable {
    /// Runs of positions waiting for their deadline, in the order added.
    private var runs: [(positions: Range<Int>, deadline: NIODeadline)] = []

    /// No deadlines.
    package init() {}

    /// Whether no run waits.
    package var isEmpty: Bool { runs.isEmpty }

    /// The requests at `positions` expire at `deadline`.
    package mutating func add(_ positions: Range<Int>, deadline: NIODeadline) {
        guard !positions.isEmpty else { return }
        runs.append((positions, deadline))
    }

    /// The earliest deadline waiting, if any: when the group's timer should fire.
    package var next: NIODeadline? {
        runs.lazy.map(\.deadline).min()
    }

    /// Removes and returns the runs whose deadline is at or before `now`
    /// (their requests that still wait expire now).
    package mutating func due(now: NIODeadline) -> [Range<Int>] {
        guard runs.contains(where: { $0.deadline <= now }) else { return [] }
        let due = runs.filter { $0.deadline <= now }.map(\.positions)
        runs.removeAll { $0.deadline <= now }
        return due
    }

    /// Forgets every run (every result is in: nothing is left to expire).
    package mutating func removeAll() {
        runs.removeAll()
    }
}
