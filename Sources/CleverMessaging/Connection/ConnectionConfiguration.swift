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
    /// TCP keepalive settings. Default: the reference's.
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
    /// How often to ping a peer that speaks the extensions (an application-level
    /// check on top of TCP keepalive; reference peers are never pinged); a ping
    /// unanswered within ``pingTimeout`` drops the link. Default 5 s; `nil` never pings.
    public var pingInterval: Duration?
    /// How long a link may move no bytes at all, in either direction, with a
    /// ping out, before it is dropped (a link busy reading or
    /// writing, such as a long file push on a slow link, is never dropped for a
    /// late ping). Default 10 s.
    public var pingTimeout: Duration
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
    /// ``HandshakeFailure/Reason/timedOut``). Default 10 s.
    public var handshakeTimeout: Duration
    /// Acknowledged delivery toward peers of this library (sequence numbers,
    /// acknowledgements, resends after a reconnect, each action run once).
    /// Default: on; toward a reference peer the wire is unchanged.
    public var delivery: DeliveryConfiguration = .init()
    /// The stages, compared by their factories' types (a factory is not `Hashable`).
    private var handshakeStages: HandshakeStageList

    /// Creates a configuration.
    /// - Parameters:
    ///   - resendRequests: resend pending requests after a reconnect (default `true`).
    ///   - resumeQueue: keep queued frames across a reconnect (default `false`).
    ///   - defaultRequestTimeout: reply timeout (default 30 s).
    ///   - maximumQueuedBytes: send queue limit (default 64 MiB).
    ///   - keepalive: TCP keepalive (default: the reference's).
    ///   - codec: decoder limits.
    ///   - announceExtensions: mark frames with the extensions key (default `true`).
    ///   - filePolicy: file confinement (default `nil`: every file transfer is refused).
    ///   - pingInterval: application ping period for peers of this library (default 5 s).
    ///   - pingTimeout: how long a ping may go unanswered (default 10 s).
    ///   - maximumReplyBacklog: replies waiting for the peer before its requests are no longer read (default 4 MiB).
    ///   - stalledPeerTimeout: how long a peer may read none of its replies before the link drops (default 30 s).
    ///   - maximumConcurrentHandlers: `async` handlers running at once before the link is no longer read (default 1024).
    ///   - handshake: the stages a new link passes before it is open (default: ``CapabilityStage``).
    ///   - handshakeTimeout: how long a link may take to pass them (default 10 s).
    public init(
        resendRequests: Bool = true,
        resumeQueue: Bool = false,
        defaultRequestTimeout: Duration? = .seconds(30),
        maximumQueuedBytes: Int = 64 * 1024 * 1024,
        keepalive: KeepaliveConfiguration = .reference,
        codec: FrameCodecConfiguration = .init(),
        announceExtensions: Bool = true,
        filePolicy: FilePolicy? = nil,
        pingInterval: Duration? = .seconds(5),
        pingTimeout: Duration = .seconds(10),
        maximumReplyBacklog: Int = 4 * 1024 * 1024,
        stalledPeerTimeout: Duration? = .seconds(30),
        maximumConcurrentHandlers: Int = 1024,
        handshake: [any HandshakeStageFactory] = [CapabilityStage.Factory()],
        handshakeTimeout: Duration = .seconds(10)
    ) {
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
