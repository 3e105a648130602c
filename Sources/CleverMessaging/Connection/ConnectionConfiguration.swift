import NIOCore

/// How a ``Connection`` behaves; the defaults are the reference's where it has one.
public struct ConnectionConfiguration: Sendable, Hashable {
    /// Send pending requests again, once, with the same id and arguments, when
    /// the connection is connected again after a drop. Default `true` (reference).
    public var resendRequests: Bool
    /// Keep frames queued but not yet written across a reconnect. When `false`
    /// (reference default) they are failed back to their senders at the drop,
    /// and sending while disconnected fails at once with
    /// ``MessagingError/notConnected``.
    public var resumeQueue: Bool
    /// How long ``Connection/request(_:args:kwargs:timeout:)`` waits for a reply
    /// when the caller gives no timeout. Default 30 s; `nil` waits forever (reference).
    public var defaultRequestTimeout: Duration?
    /// The most bytes queued for the peer (encoded, not yet written by the
    /// kernel) before sends fail with ``MessagingError/queueFull(queuedBytes:limit:)``.
    /// Default 64 MiB. Replies to the peer's requests are not held to it (they
    /// are bounded by ``maximumReplyBacklog`` instead), so that none is dropped.
    public var maximumQueuedBytes: Int
    /// The most bytes of replies that may wait for the peer to read them: beyond
    /// this, the link's requests are no longer read until half of it is written.
    /// A peer that asks faster than it reads its answers is slowed down (its own
    /// queue fills, and its senders learn it), instead of replies being dropped or
    /// piling up without bound. Default 4 MiB.
    public var maximumReplyBacklog: Int
    /// How long reading may stay stopped for ``maximumReplyBacklog`` while the
    /// peer reads nothing at all; then the link is dropped, so that a peer that
    /// never reads cannot hold a link (and two peers that both stopped reading
    /// cannot wait on each other) forever. A peer that takes at least 256 KiB in
    /// that time (9 KB/s for the default) is reading, however slowly, and keeps
    /// its link. Default 30 s; `nil` waits forever.
    public var stalledPeerTimeout: Duration?
    /// The most `async` handlers (and reads of files a peer asked for) that may
    /// run at once for one connection: beyond this the link is no longer read
    /// until half of them have finished, so a peer that sends faster than its
    /// handlers finish is slowed down instead of starting tasks without bound.
    /// Synchronous handlers run on the event loop, one at a time, and need no
    /// limit. Default 1024.
    public var maximumConcurrentHandlers: Int
    /// TCP keepalive and `TCP_USER_TIMEOUT` settings: the kernel's watch over
    /// the link, for every peer (see ``KeepaliveConfiguration`` for how it
    /// combines with the pings). Default: keepalive after 2 s idle, a probe
    /// every second, 3 probes, and a 5 s user timeout.
    public var keepalive: KeepaliveConfiguration
    /// Decoder limits.
    public var codec: FrameCodecConfiguration
    /// Mark every frame sent with the `x-clever` header key, so peers of
    /// this library use the extensions (error replies, file acknowledgements).
    /// Reference peers ignore the key. Default `true`.
    public var announceExtensions: Bool
    /// Where peers may write pushed files and read pulled ones; `nil` (the
    /// default) refuses every file push and pull with
    /// ``FilePolicyError/notConfigured`` until a policy with a root is set.
    public var filePolicy: FilePolicy?
    /// The integrity check this side asks for on files it exchanges with peers
    /// of this library: a transfer uses ``FileChecksum/xxh64`` when both sides
    /// ask for it (the default), ``FileChecksum/sha256`` when either asks for
    /// SHA-256 (they agree before each transfer). Reference peers always get and send
    /// SHA-256, whatever this says. Default ``FileChecksum/xxh64``.
    public var fileChecksum: FileChecksum = .xxh64
    /// How long a link to a peer that speaks the extensions may move no bytes
    /// before it is pinged (an application-level check on top of TCP
    /// keepalive; reference peers are never pinged). Bytes moving either way
    /// count: bytes read from the peer, writes completing, and bytes the
    /// kernel reports as acknowledged by the peer's TCP or received from it,
    /// so a busy link is never pinged. Default 2 s; `nil` never pings.
    ///
    /// A peer that vanishes is noticed after at most ``pingInterval`` plus
    /// ``pingTimeout`` without a byte moving (5 s with the defaults), whether
    /// the link was idle or in the middle of a transfer; the link is dropped
    /// with ``MessagingError/peerUnresponsive(idle:)``
    /// (``Connection/lastDropReason``). The kernel's watch
    /// (``keepalive``) notices it in about the same time for any peer.
    public var pingInterval: Duration?
    /// How long a link may move no bytes at all, in either direction, with a
    /// ping out, before it is dropped: a link busy reading or writing, such as
    /// a long file push on a slow link, is never dropped for a late ping (the
    /// ping waits behind the file). Default 3 s.
    public var pingTimeout: Duration
    /// How long a file transfer (a push's body and the wait for its bytes to be
    /// acknowledged by the peer's TCP, a pull's body, a file served to a peer)
    /// may make no progress before it fails with
    /// ``MessagingError/transferStalled(idle:)`` and its link is dropped. It
    /// runs from the last progress, never from the start: a transfer of any
    /// size on a slow link completes as long as bytes keep moving. Default 10 s.
    public var transferStallTimeout: Duration
    /// The stages a new link must pass, in order, before it is open
    /// (``HandshakeStage``): nothing is dispatched to handlers and nothing
    /// queued is written until they all passed. Default: ``CapabilityStage``,
    /// which passes at once (the wire is the same as with no stage).
    public var handshake: [any HandshakeStageFactory] {
        get { handshakeStages.factories }
        set { handshakeStages = HandshakeStageList(newValue) }
    }
    /// How long a new link may take to pass every handshake stage; then it is
    /// closed with ``MessagingError/handshakeFailed(_:)`` (code
    /// ``HandshakeFailure/Reason/timedOut``), so that a peer that connects and
    /// says nothing holds no link for long. Default 2 s (a ``GroundStation``'s
    /// identify step included).
    public var handshakeTimeout: Duration
    /// Acknowledged delivery toward peers of this library (sequence numbers,
    /// acknowledgements, resends after a reconnect, each action run once).
    /// Default: on; toward a reference peer the wire is unchanged.
    public var delivery: DeliveryConfiguration = .init()
    /// The most frames a peer may send per second on one link, with a burst
    /// allowance (``FrameRateLimit``): a link that sends more is closed, with a
    /// warning naming the peer. Default `nil`: no limit.
    public var inboundFrameLimit: FrameRateLimit? = nil
    /// Where the roles publish their metrics (``CleverMetrics``). Default `nil`:
    /// to the process's `MetricsSystem` when a backend was bootstrapped
    /// (``CleverMetrics/bootstrapped()``, looked up when the role is made),
    /// to nothing otherwise.
    public var metrics: CleverMetrics? = nil
    /// How far this side's clock (``Connection/clockTime``) is ahead of the
    /// system's wall clock (negative: behind). Default `.zero`. A simulated
    /// drone sets it to rehearse a skewed clock: the station's clock exchange
    /// and timed starts then see that clock.
    public var clockOffset: Duration = .zero
    /// The stages, compared by their factories' types (a factory is not `Hashable`).
    private var handshakeStages: HandshakeStageList

    /// Creates a configuration.
    /// - Parameters:
    ///   - resendRequests: resend pending requests after a reconnect (default `true`).
    ///   - resumeQueue: keep queued frames across a reconnect (default `false`).
    ///   - defaultRequestTimeout: reply timeout (default 30 s).
    ///   - maximumQueuedBytes: send queue limit (default 64 MiB).
    ///   - keepalive: TCP keepalive and user timeout (default: 2 s idle, 1 s apart, 3 probes, 5 s user timeout).
    ///   - codec: decoder limits.
    ///   - announceExtensions: mark frames with the extensions key (default `true`).
    ///   - filePolicy: file confinement (default `nil`: every file transfer is refused).
    ///   - pingInterval: idle time before a peer of this library is pinged (default 2 s).
    ///   - pingTimeout: how long nothing may move with a ping out (default 3 s).
    ///   - maximumReplyBacklog: replies waiting for the peer before its requests are no longer read (default 4 MiB).
    ///   - stalledPeerTimeout: how long a peer may read none of its replies before the link drops (default 30 s).
    ///   - maximumConcurrentHandlers: `async` handlers running at once before the link is no longer read (default 1024).
    ///   - handshake: the stages a new link passes before it is open (default: ``CapabilityStage``).
    ///   - handshakeTimeout: how long a link may take to pass them (default 2 s).
    ///   - transferStallTimeout: how long a file transfer may make no progress (default 10 s).
    public init(
        resendRequests: Bool = true,
        resumeQueue: Bool = false,
        defaultRequestTimeout: Duration? = .seconds(30),
        maximumQueuedBytes: Int = 64 * 1024 * 1024,
        keepalive: KeepaliveConfiguration = .init(),
        codec: FrameCodecConfiguration = .init(),
        announceExtensions: Bool = true,
        filePolicy: FilePolicy? = nil,
        pingInterval: Duration? = .seconds(2),
        pingTimeout: Duration = .seconds(3),
        maximumReplyBacklog: Int = 4 * 1024 * 1024,
        stalledPeerTimeout: Duration? = .seconds(30),
        maximumConcurrentHandlers: Int = 1024,
        handshake: [any HandshakeStageFactory] = [CapabilityStage.Factory()],
        handshakeTimeout: Duration = .seconds(2),
        transferStallTimeout: Duration = .seconds(10)
    ) {
        self.transferStallTimeout = transferStallTimeout
        self.handshakeStages = HandshakeStageList(handshake)
        self.handshakeTimeout = handshakeTimeout
        self.maximumConcurrentHandlers = maximumConcurrentHandlers
        self.maximumReplyBacklog = maximumReplyBacklog
        self.stalledPeerTimeout = stalledPeerTimeout
        self.filePolicy = filePolicy
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.resendRequests = resendRequests
        self.resumeQueue = resumeQueue
        self.defaultRequestTimeout = defaultRequestTimeout
        self.maximumQueuedBytes = maximumQueuedBytes
        self.keepalive = keepalive
        self.codec = codec
        self.announceExtensions = announceExtensions
    }
}

/// Handshake stage factories, equal when their factories are of the same
/// types in the same order (what a configuration can compare of them).
struct HandshakeStageList: Sendable, Hashable {
    let factories: [any HandshakeStageFactory]

    init(_ factories: [any HandshakeStageFactory]) {
        self.factories = factories
    }

    private var types: [ObjectIdentifier] { factories.map { ObjectIdentifier(type(of: $0)) } }

    static func == (a: HandshakeStageList, b: HandshakeStageList) -> Bool { a.types == b.types }

    func hash(into hasher: inout Hasher) { hasher.combine(types) }
}
