import DequeModule

/// A drone's timed starts: those scheduled and not run yet, and the ids of
/// the last ones run, so that a start sent again (the station retries until
/// it sees the acknowledgement, which may have been lost) is scheduled once.
/// Time is an input (the drone's clock, Unix seconds).
package struct TimedStartTable: Sendable, Hashable {
    /// What to do with a start that arrived.
    package enum Decision: Sendable, Hashable {
        /// Schedule its handler this long from now (zero: its instant has passed, run it at once).
        case schedule(in: Duration)
        /// It is scheduled already, or ran: acknowledge it, and do nothing more.
        case duplicate
        /// ``maximumScheduled`` starts wait already: refuse it (a peer cannot make the table grow without bound).
        case full
    }

    /// The ids of starts scheduled and not run yet, with their instants.
    package private(set) var scheduled: [String: Double] = [:]
    /// The ids of the last starts run (at most ``rememberedRuns``).
    private var ran = Deque<String>()
    /// How many ids of starts run are remembered.
    package let rememberedRuns: Int
    /// How many starts may wait at once.
    package let maximumScheduled: Int

    /// An empty table.
    /// - Parameters:
    ///   - rememberedRuns: how many ids of starts run are remembered (default 64).
    ///   - maximumScheduled: how many starts may wait at once (default 1024).
    package init(rememberedRuns: Int = 64, maximumScheduled: Int = 1024) {
        self.rememberedRuns = max(1, rememberedRuns)
        self.maximumScheduled = max(1, maximumScheduled)
    }

    /// A start arrived.
    /// - Parameters:
    ///   - id: its id.
    ///   - at: its instant on the drone's clock.
    ///   - now: the drone's clock now.
    /// - Returns: whether and when to run it.
    package mutating func accept(id: String, at: Double, now: Double) -> Decision {
        guard scheduled[id] == nil, !ran.contains(id) else { return .duplicate }
        guard scheduled.count < maximumScheduled else { return .full }
        scheduled[id] = at
        return .schedule(in: .seconds(max(0, at - now)))
    }

    /// A start's handler is about to run.
    /// - Parameter id: its id.
    /// - Returns: its instant, or `nil` when it is not scheduled (cancelled meanwhile).
    package mutating func run(id: String) -> Double? {
        guard let at = scheduled.removeValue(forKey: id) else { return nil }
        ran.append(id)
        if ran.count > rememberedRuns { ran.removeFirst() }
        return at
    }

    /// The connection closes: nothing scheduled runs.
    /// - Returns: the ids that were scheduled.
    package mutating func cancelAll() -> [String] {
        defer { scheduled = [:] }
        return Array(scheduled.keys)
    }
}
