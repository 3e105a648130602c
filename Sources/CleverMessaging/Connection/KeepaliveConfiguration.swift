/// TCP keepalive settings (PROTOCOL.md section 4; the reference's `set_keepalive`).
public struct KeepaliveConfiguration: Sendable, Hashable {
    /// Whether `SO_KEEPALIVE` is on. Default `true`.
    public var enabled: Bool
    /// Idleness before the first probe (`TCP_KEEPIDLE`, whole seconds, at least 1). Default 1 s.
    public var idle: Duration
    /// Time between probes (`TCP_KEEPINTVL`, whole seconds, at least 1). Default 3 s.
    public var interval: Duration
    /// Unanswered probes before the link is dropped (`TCP_KEEPCNT`). Default 5.
    public var probeCount: Int

    /// Creates keepalive settings; the defaults are the reference's.
    /// - Parameters:
    ///   - enabled: whether keepalive is on.
    ///   - idle: idle time before probing.
    ///   - interval: time between probes.
    ///   - probeCount: failed probes before a drop.
    public init(enabled: Bool = true, idle: Duration = .seconds(1), interval: Duration = .seconds(3), probeCount: Int = 5) {
        self.enabled = enabled
        self.idle = idle
        self.interval = interval
        self.probeCount = probeCount
    }

    /// The reference's settings: on, 1 s, 3 s, 5 probes.
    public static let reference = KeepaliveConfiguration()

    /// `idle` in whole seconds for the socket option (rounded up, at least 1).
    var idleSeconds: Int { Self.socketSeconds(idle) }
    /// `interval` in whole seconds for the socket option (rounded up, at least 1).
    var intervalSeconds: Int { Self.socketSeconds(interval) }

    private static func socketSeconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let whole = seconds + (attoseconds > 0 ? 1 : 0)
        return Int(clamping: max(1, min(whole, Int64(Int32.max))))
    }
}
