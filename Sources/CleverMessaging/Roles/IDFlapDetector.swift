import DequeModule

/// Notices one drone id moving back and forth between links: the sign of two
/// drones that answer the same id from one host (a simulated swarm and a
/// single simulated drone, two processes on one companion computer), each
/// link replacing the other as it reconnects.
///
/// One replacement is normal (a drone reconnects before its old link was
/// seen to close); ``threshold`` of them for one id within ``window`` is not.
/// The detector says so once per id. It holds no clock: each event brings its
/// time.
package struct IDFlapDetector: Sendable {
    /// What to do about one replacement.
    package enum Decision: Sendable, Hashable {
        /// Nothing: too few replacements so far, or this id was reported already.
        case none
        /// Warn now: `replacements` replacements of this id happened within the window.
        case warn(replacements: Int)
    }

    /// How many replacements of one id within ``window`` make a flap. Default 3.
    package let threshold: Int
    /// The span the replacements must fall in. Default 60 s.
    package let window: Duration

    /// The times of each id's latest replacements (at most `threshold` each), for ids not yet reported.
    private var recent: [String: Deque<ContinuousClock.Instant>] = [:]
    /// The ids reported.
    private var reported: Set<String> = []

    /// A detector.
    /// - Parameters:
    ///   - threshold: replacements of one id that make a flap (at least 2; default 3).
    ///   - window: the span they must fall in (default 60 s).
    package init(threshold: Int = 3, window: Duration = .seconds(60)) {
        self.threshold = max(2, threshold)
        self.window = window
    }

    /// The link of drone `id` was replaced by another link at `now`.
    /// - Parameters:
    ///   - id: the drone id.
    ///   - now: when.
    /// - Returns: whether to warn (once per id).
    package mutating func replaced(id: String, at now: ContinuousClock.Instant) -> Decision {
        guard !reported.contains(id) else { return .none }
        var times = recent[id] ?? []
        times.append(now)
        while let first = times.first, now - first > window { times.removeFirst() }
        if times.count > threshold { times.removeFirst() }
        guard times.count >= threshold else {
            recent[id] = times
            return .none
        }
        recent[id] = nil
        reported.insert(id)
        return .warn(replacements: times.count)
    }

    /// Whether `id` was reported.
    /// - Parameter id: the drone id.
    /// - Returns: whether a warning was decided for it.
    package func hasReported(_ id: String) -> Bool {
        reported.contains(id)
    }
}
