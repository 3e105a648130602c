/// How long a client waits before it connects again after a link ended, as a
/// pure decision: links the server keeps closing make the wait grow.
///
/// A ground station closes a drone's link when another drone displaces it: the
/// reference station keys drones by source IP and drops the old socket when a
/// second drone dials from the same address; this library's ``GroundStation``
/// drops the older of two links that answer one id from one host, and refuses
/// an id connected from another host. Two drones caught so would displace each
/// other at every reconnect, for ever. Each link the peer ended in a row is
/// one more displacement: the first is followed as any drop (at once, or after
/// the rest of the policy's first delay when the link held for less); from the
/// second on the client waits the policy's first delay doubled for each further
/// one, up to its maximum (at least the first delay), with the policy's jitter.
/// A link that held for ``settledAfter`` or longer ends the run: the server
/// kept it, so the drop before it was not a displacement. A link this side
/// dropped (its peer unresponsive, a transfer stalled) ends the run too.
///
/// It holds no clock and draws no random number: each event brings how long
/// the link lived and the jitter's draw.
package struct DisplacementBackoff: Sendable, Hashable {
    /// Who ended a link.
    package enum LinkEnd: Sendable, Hashable {
        /// The peer (or the path to it) closed the link: this side did not ask for it.
        case byPeer
        /// This side dropped the link (its peer went unresponsive, a transfer stalled).
        case byThisSide
    }

    /// The delays' source: ``ReconnectPolicy/initialDelay``, ``ReconnectPolicy/maximumDelay``
    /// and ``ReconnectPolicy/jitter``.
    package let policy: ReconnectPolicy
    /// A link that held this long ends a run of displacements.
    package let settledAfter: Duration
    /// Links the peer ended in a row, each within ``settledAfter`` of the one before.
    package private(set) var displacements = 0

    /// A backoff with no displacement yet.
    /// - Parameters:
    ///   - policy: the client's reconnect policy.
    ///   - settledAfter: how long a link must hold to end a run (default: twice
    ///     the policy's maximum delay, at least 60 s; two displaced drones
    ///     waiting the maximum each keep links shorter than that).
    package init(policy: ReconnectPolicy, settledAfter: Duration? = nil) {
        self.policy = policy
        self.settledAfter = settledAfter ?? max(.seconds(60), policy.maximumDelay * 2)
    }

    /// A link ended.
    /// - Parameters:
    ///   - end: who ended it.
    ///   - lived: how long it was up.
    ///   - draw: a number in `-1...1` that scales the policy's jitter (0: none).
    /// - Returns: how long to wait before the next attempt (zero: at once).
    package mutating func linkEnded(_ end: LinkEnd, lived: Duration, draw: Double = 0) -> Duration {
        let rest = max(.zero, policy.initialDelay - lived)
        guard end == .byPeer else {
            displacements = 0
            return rest
        }
        if lived >= settledAfter { displacements = 0 }
        displacements += 1
        guard displacements > 1 else { return rest }
        // Doubled per displacement after the first.
        guard let delay = policy.doubledDelay(displacements - 1, jitter: min(1, max(0, policy.jitter)), draw: draw) else { return rest }
        return max(rest, delay)
    }
}
