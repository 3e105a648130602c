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
        return policy.doubledDelay(refusals - 1, jitter: Self.jitter, draw: draw) ?? .zero
    }

    /// A link came up that the server did not refuse: the next refusal starts a new run.
    package mutating func accepted() {
        refusals = 0
    }
}
