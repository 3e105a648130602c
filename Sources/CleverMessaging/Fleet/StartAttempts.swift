/// The station's attempts to have one drone acknowledge a timed start: sent,
/// and sent again after a timeout or a dropped link, until it is acknowledged
/// or the give-up time (shortly before the instant) comes. Time is an input
/// (the station's clock, Unix seconds).
package struct StartAttempts: Sendable, Hashable {
    /// What to do next.
    package enum Next: Sendable, Hashable {
        /// Send it; wait for the acknowledgement this long.
        case send(timeout: Duration)
        /// The drone has no link: wait this long for one.
        case waitForLink(upTo: Duration)
        /// Too late: the drone is unreachable.
        case giveUp
    }

    /// When attempts stop (the station's clock).
    package let giveUpAt: Double
    /// The longest wait for one acknowledgement.
    package let attemptTimeout: Duration
    /// How many times it was sent.
    package private(set) var attempts = 0

    /// Attempts for one drone.
    /// - Parameters:
    ///   - giveUpAt: when attempts stop, on the station's clock.
    ///   - attemptTimeout: the longest wait for one acknowledgement.
    package init(giveUpAt: Double, attemptTimeout: Duration) {
        self.giveUpAt = giveUpAt
        self.attemptTimeout = attemptTimeout
    }

    /// How many times it was sent again after the first.
    package var retries: Int { max(0, attempts - 1) }

    /// What to do now.
    /// - Parameters:
    ///   - now: the station's clock.
    ///   - linked: whether the drone has a link.
    /// - Returns: the next step; ``Next/send(timeout:)`` counts as an attempt.
    package mutating func next(now: Double, linked: Bool) -> Next {
        // At most a day at a time: any instant, however far, makes a `Duration`.
        let left = min(giveUpAt - now, 86_400)
        // Less than a millisecond left buys nothing: no answer could come back in time.
        guard left > 0.001 else { return .giveUp }  // also NaN
        guard linked else { return .waitForLink(upTo: .seconds(left)) }
        attempts += 1
        return .send(timeout: min(attemptTimeout, .seconds(left)))
    }
}
