/// How long a client waits before it connects again after the server refused
/// its link (its handshake failed for a token or a version), as a pure
/// decision: the policy's first delay, doubled for every refusal in a row up
/// to its maximum (at least the first delay), with ``jitter``, instead of
/// hammering a server that will refuse again. A link the server did not
/// refuse ends the run (``accepted()``).
///
/// It holds no clock and draws no random number: each refusal brings the
/// jitter's draw.
package struct RefusalBackoff: Sendable, Hashable {
    /// The fraction of the delay added or removed at random (the draw scales it).
    package static let jitter = 0.1

    /// The delays' source: ``ReconnectPolicy/initialDelay`` and ``ReconnectPolicy/maximumDelay``.
    package let policy: ReconnectPolicy
    /// Links the server refused in a row.
    package private(set) var refusals = 0

    /// A backoff with no refusal yet.
    /// - Parameter policy: the client's reconnect policy.
    package init(policy: ReconnectPolicy) {
        self.policy = policy
    }

    /// The server refused a link.
    /// - Parameter draw: a number in `-1...1` that scales ``jitter`` (0: none).
    /// - Returns: how long to wait before the next attempt.
    package mutating func refused(draw: Double = 0) -> Duration {
        refusals += 1
        let first = Self.seconds(policy.initialDelay)
        let cap = max(first, Self.seconds(policy.maximumDelay))
        // Doubled per refusal after the first; capped before it becomes a Duration.
        var delay = min(cap, first * Self.power(of: 2, refusals - 1))
        delay *= 1 + Self.jitter * min(1, max(-1, draw))
        guard delay.isFinite, delay > 0 else { return .zero }
        return .seconds(delay)
    }

    /// A link came up that the server did not refuse: the next refusal starts a new run.
    package mutating func accepted() {
        refusals = 0
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// `base` to the power `exponent`, without overflow (it stops growing past 2^64).
    private static func power(of base: Double, _ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<min(max(0, exponent), 64) { result *= base }
        return result
    }
}
