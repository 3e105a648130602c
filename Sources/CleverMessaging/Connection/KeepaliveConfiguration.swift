/// TCP keepalive settings (PROTOCOL.md section 4; the seed's `set_keepalive`).
public struct KeepaliveConfiguration: Sendable, Hashable {
    /// Whether `SO_KEEPALIVE` is on. Default `true`.
    public var enabled: Bool
    /// Seconds of idleness before the first probe (`TCP_KEEPIDLE`). Default 1.
    public var idleSeconds: Int
    /// Seconds between probes (`TCP_KEEPINTVL`). Default 3.
    public var intervalSeconds: Int
    /// Unanswered probes before the link is dropped (`TCP_KEEPCNT`). Default 5.
    public var probeCount: Int

    /// Creates keepalive settings; the defaults are the reference's.
    /// - Parameters:
    ///   - enabled: whether keepalive is on.
    ///   - idleSeconds: idle time before probing.
    ///   - intervalSeconds: time between probes.
    ///   - probeCount: failed probes before a drop.
    public init(enabled: Bool = true, idleSeconds: Int = 1, intervalSeconds: Int = 3, probeCount: Int = 5) {
        self.enabled = enabled
        self.idleSeconds = idleSeconds
        self.intervalSeconds = intervalSeconds
        self.probeCount = probeCount
    }

    /// The reference's settings: on, 1 s, 3 s, 5 probes.
    public static let reference = KeepaliveConfiguration()
}
