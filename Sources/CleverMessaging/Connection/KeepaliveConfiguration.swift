/// The kernel's watch over a TCP link: keepalive probes on an idle link
/// (PROTOCOL.md section 4; the reference's `set_keepalive`) and
/// `TCP_USER_TIMEOUT` for data the peer does not acknowledge.
///
/// How they combine with the application's pings (``ConnectionConfiguration/pingInterval``):
/// - An idle link to a silent peer: the first probe goes after ``idle``, then
///   one every ``interval``; the kernel drops the link after ``probeCount``
///   unanswered probes or, when ``userTimeout`` is set, once the peer has been
///   silent for ``userTimeout`` with a probe out, whichever comes first. The
///   defaults (2 s, 1 s, 3 probes, 5 s) drop it about 5 s after the peer's last byte.
/// - A link with data in flight: a peer that acknowledges none of it for
///   ``userTimeout`` gets its link dropped by the kernel (Linux also counts a
///   window the peer keeps at zero). A slow peer that acknowledges some bytes
///   now and then is never dropped: acknowledged bytes restart the count.
/// - A peer of this library is also pinged by the application, which notices
///   a peer that stopped reading but whose kernel still answers.
public struct KeepaliveConfiguration: Sendable, Hashable {
    /// Whether `SO_KEEPALIVE` is on. Default `true`.
    public var enabled: Bool
    /// Idleness before the first probe (`TCP_KEEPIDLE`, whole seconds, at least 1). Default 2 s.
    public var idle: Duration
    /// Time between probes (`TCP_KEEPINTVL`, whole seconds, at least 1). Default 1 s.
    public var interval: Duration
    /// Unanswered probes before the link is dropped (`TCP_KEEPCNT`). Default 3.
    public var probeCount: Int
    /// How long written data may go unacknowledged by the peer's TCP (and, with
    /// keepalive on, how long probes may go unanswered) before the kernel drops
    /// the link (`TCP_USER_TIMEOUT`, Linux only, whole milliseconds). Default
    /// 5 s; `nil` leaves the system's choice (many minutes of retransmissions).
    public var userTimeout: Duration?

    /// Creates keepalive settings.
    /// - Parameters:
    ///   - enabled: whether keepalive is on (default `true`).
    ///   - idle: idle time before probing (default 2 s).
    ///   - interval: time between probes (default 1 s).
    ///   - probeCount: failed probes before a drop (default 3).
    ///   - userTimeout: how long data may go unacknowledged (default 5 s; `nil`: the system's).
    public init(
        enabled: Bool = true,
        idle: Duration = .seconds(2),
        interval: Duration = .seconds(1),
        probeCount: Int = 3,
        userTimeout: Duration? = .seconds(5)
    ) {
        self.enabled = enabled
        self.idle = idle
        self.interval = interval
        self.probeCount = probeCount
        self.userTimeout = userTimeout
    }

    /// The reference's settings: on, 1 s, 3 s, 5 probes, no user timeout
    /// (a silent idle peer is dropped after about 16 s).
    public static let reference = KeepaliveConfiguration(idle: .seconds(1), interval: .seconds(3), probeCount: 5, userTimeout: nil)

    /// `idle` in whole seconds for the socket option (rounded up, at least 1).
    var idleSeconds: Int { Self.socketSeconds(idle) }
    /// `interval` in whole seconds for the socket option (rounded up, at least 1).
    var intervalSeconds: Int { Self.socketSeconds(interval) }
    /// `userTimeout` in whole milliseconds for the socket option (rounded up, at least 1).
    var userTimeoutMilliseconds: Int? {
        guard let userTimeout else { return nil }
        let (seconds, attoseconds) = userTimeout.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(clamping: max(1, min(milliseconds, Int64(Int32.max))))
    }

    private static func socketSeconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let whole = seconds + (attoseconds > 0 ? 1 : 0)
        return Int(clamping: max(1, min(whole, Int64(Int32.max))))
    }
}
