import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Listens for discovery beacons on a UDP port (PROTOCOL.md section 5).
///
/// Each datagram must hold one whole `server_ip` action frame; anything else
/// (garbage, a truncated or binary frame, another action, bad arguments) is
/// ignored with a debug log line and counted in ``ignoredDatagramCount``.
/// The socket sets `SO_REUSEADDR` and, where available, `SO_REUSEPORT`, so
/// several listeners on one host can share the port (every one of them gets
/// broadcast datagrams; on Linux a unicast datagram reaches only one).
///
/// With a ``Configuration/key``, only beacons signed with that key within
/// ``Configuration/replayWindow`` of now are accepted (see ``BeaconVerifier``);
/// an unsigned, wrongly signed, expired or future beacon is ignored, counted,
/// and logged at warning level once per sender and reason (later ones at debug).
///
/// Every call of ``announcements()`` subscribes anew: the stream yields the
/// announcements received after the call, until the listener is closed.
/// ``nextAnnouncement(timeout:where:)`` waits for one such announcement.
public final class DiscoveryListener: Sendable {
    /// Where a listener binds and what it accepts.
    public struct Configuration: Sendable, Hashable {
        /// The address to bind. Default `"0.0.0.0"` (every IPv4 interface, which
        /// broadcast beacons need); tests use `"127.0.0.1"`.
        public var host: String
        /// The UDP port; 0 picks a free one (see ``DiscoveryListener/localAddress``).
        /// Default 8181, the reference's.
        public var port: Int
        /// Whether to set `SO_REUSEPORT` as well as `SO_REUSEADDR`. Default `true`.
        public var reusePort: Bool
        /// The largest datagram read whole; longer ones are cut and so ignored. Default 8192 bytes.
        public var maximumDatagramSize: Int
        /// How many announcements each subscriber's stream keeps while it is
        /// not read; the oldest are dropped first. Default 64.
        public var bufferedAnnouncements: Int
        /// The frame decoder's limits.
        public var codec: FrameCodecConfiguration
        /// The key beacons must be signed with; `nil` (the default) accepts any
        /// well-formed beacon, as the reference does.
        public var key: DiscoveryKey?
        /// With a ``key``: how far a beacon's signing time may be from now, either way. Default 10 s.
        public var replayWindow: Duration

        /// Creates a configuration.
        /// - Parameters:
        ///   - host: the address to bind (default `"0.0.0.0"`).
        ///   - port: the UDP port (default 8181; 0 for any free port).
        ///   - reusePort: whether to set `SO_REUSEPORT` (default `true`).
        ///   - maximumDatagramSize: the largest datagram read whole (default 8192).
        ///   - bufferedAnnouncements: per-subscriber buffer (default 64).
        ///   - codec: the frame decoder's limits.
        ///   - key: the key beacons must be signed with (default: none, any beacon is accepted).
        ///   - replayWindow: how far a signed beacon's time may be from now (default 10 s).
        public init(
            host: String = "0.0.0.0",
            port: Int = 8181,
            reusePort: Bool = true,
            maximumDatagramSize: Int = 8192,
            bufferedAnnouncements: Int = 64,
            codec: FrameCodecConfiguration = .init(),
            key: DiscoveryKey? = nil,
            replayWindow: Duration = .seconds(10)
        ) {
            self.host = host
            self.port = port
            self.reusePort = reusePort
            self.maximumDatagramSize = maximumDatagramSize
            self.bufferedAnnouncements = bufferedAnnouncements
            self.codec = codec
            self.key = key
            self.replayWindow = replayWindow
        }

        /// The verifier of this configuration's key, window and limits.
        public var verifier: BeaconVerifier {
            BeaconVerifier(key: key, replayWindow: replayWindow, codec: codec)
        }
    }

    /// Where to bind and what to accept.
    public let configuration: Configuration
    /// The logger.
    public let logger: Logger

    private let group: any EventLoopGroup
    private let core: ListenerCore

    /// Creates a listener; the socket is bound by ``start()`` (or the first wait).
    /// - Parameters:
    ///   - configuration: where to bind (default `0.0.0.0:8181`).
    ///   - group: the event loops (default: NIO's shared group).
    ///   - logger: where to log.
    public init(
        configuration: Configuration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "clever.discovery")
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.core = ListenerCore(
            verifier: configuration.verifier,
            buffered: max(1, configuration.bufferedAnnouncements),
            logger: logger
        )
    }

    /// Creates a listener for `host:port`.
    /// - Parameters:
    ///   - host: the address to bind (default `"0.0.0.0"`).
    ///   - port: the UDP port (default 8181; 0 for any free port).
    ///   - group: the event loops (default: NIO's shared group).
    ///   - logger: where to log.
    public convenience init(
        host: String = "0.0.0.0",
        port: Int = 8181,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "clever.discovery")
    ) {
        self.init(configuration: Configuration(host: host, port: port), group: group, logger: logger)
    }

    /// The bound address, once ``start()`` has succeeded (with the real port when 0 was asked).
    public var localAddress: SocketAddress? {
        core.state.withLockedValue { $0.channel?.localAddress }
    }

    /// The bound UDP port, once ``start()`` has succeeded.
    public var port: Int? { localAddress?.port }

    /// How many datagrams were ignored because they held no valid announcement.
    public var ignoredDatagramCount: Int {
        core.state.withLockedValue { $0.ignored }
    }

    /// How many beacons were ignored because of their signature (unsigned,
    /// wrongly signed, expired or from the future), by reason; empty without a key.
    public var rejectedBeaconCounts: [BeaconRejection: Int] {
        core.state.withLockedValue { $0.rejected }
    }

    /// How many announcements were received.
    public var receivedAnnouncementCount: Int {
        core.state.withLockedValue { $0.received }
    }

    /// Binds the socket, unless it is bound already.
    /// - Returns: the bound address.
    /// - Throws: ``MessagingError/invalidAddress(host:port:reason:)`` for a port
    ///   outside `0...65535`, ``MessagingError/bindFailed(host:port:reason:)``, or
    ///   ``MessagingError/closed`` after ``close()``.
    @discardableResult
    public func start() async throws(MessagingError) -> SocketAddress {
        guard PortRange.listening.contains(configuration.port) else {
            throw .invalidAddress(
                host: configuration.host, port: configuration.port,
                reason: "a port must be in \(PortRange.listening.lowerBound)...\(PortRange.listening.upperBound)"
            )
        }
        enum Step {
            case bound(SocketAddress)
            case wait(EventLoopFuture<any Channel>)
            case bind(EventLoopPromise<any Channel>)
            case closed
        }
        let group = self.group
        let step = core.state.withLockedValue { s -> Step in
            if s.closed { return .closed }
            if let channel = s.channel, let address = channel.localAddress { return .bound(address) }
            if let binding = s.binding { return .wait(binding) }
            let promise = group.any().makePromise(of: (any Channel).self)
            s.binding = promise.futureResult
            return .bind(promise)
        }
        let future: EventLoopFuture<any Channel>
        switch step {
        case .bound(let address): return address
        case .closed: throw .closed
        case .wait(let binding): future = binding
        case .bind(let promise):
            future = promise.futureResult
            let core = self.core
            core.bind(configuration: configuration, group: group).whenComplete { result in
                core.finishBinding(result)
                promise.completeWith(result)
            }
        }
        let channel: any Channel
        do {
            channel = try await future.get()
        } catch {
            throw .bindFailed(host: configuration.host, port: configuration.port, reason: LogFormat.error(error))
        }
        guard !core.state.withLockedValue({ $0.closed }), let address = channel.localAddress else { throw .closed }
        logger.debug("listening for server announcements", metadata: ["address": "\(address)"])
        return address
    }

    /// Subscribes to the announcements received from now on.
    ///
    /// The stream ends when the listener is closed; it keeps the newest
    /// ``Configuration/bufferedAnnouncements`` while not read. It does not
    /// bind the socket: call ``start()``.
    /// - Returns: a new stream.
    public func announcements() -> AsyncStream<ServerAnnouncement> {
        core.subscribe()
    }

    /// Waits for the next announcement received after the call (binding the
    /// socket first if needed).
    /// - Parameters:
    ///   - timeout: how long to wait; `nil` waits until one arrives, as the reference does.
    ///   - predicate: which announcements count (default: all).
    /// - Returns: the announcement.
    /// - Throws: ``MessagingError/discoveryTimedOut(after:)``, ``MessagingError/cancelled``,
    ///   ``MessagingError/closed``, or ``MessagingError/bindFailed(host:port:reason:)``.
    public func nextAnnouncement(
        timeout: Duration? = nil,
        where predicate: (@Sendable (ServerAnnouncement) -> Bool)? = nil
    ) async throws(MessagingError) -> ServerAnnouncement {
        let stream = announcements()
        try await start()
        enum Outcome: Sendable {
            case announcement(ServerAnnouncement)
            case timedOut
            case ended
        }
        let outcome = await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                for await announcement in stream where predicate?(announcement) ?? true {
                    return .announcement(announcement)
                }
                return .ended
            }
            if let timeout {
                group.addTask {
                    do {
                        try await Task.sleep(for: timeout)
                        return .timedOut
                    } catch {
                        return .ended
                    }
                }
            }
            let first = await group.next() ?? .ended
            group.cancelAll()
            return first
        }
        switch outcome {
        case .announcement(let announcement): return announcement
        case .timedOut: throw .discoveryTimedOut(after: timeout ?? .zero)
        case .ended: throw Task.isCancelled ? .cancelled : .closed
        }
    }

    /// Binds a listener, waits for one announcement, and closes it: the
    /// reference's way for a client that lost its server.
    /// - Parameters:
    ///   - host: the address to bind (default `"0.0.0.0"`).
    ///   - port: the UDP port (default 8181).
    ///   - timeout: how long to wait; `nil` waits until one arrives.
    ///   - group: the event loops (default: NIO's shared group).
    ///   - logger: where to log.
    /// - Returns: the announcement.
    /// - Throws: as ``nextAnnouncement(timeout:where:)``.
    public static func nextAnnouncement(
        host: String = "0.0.0.0",
        port: Int = 8181,
        timeout: Duration? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "clever.discovery")
    ) async throws(MessagingError) -> ServerAnnouncement {
        let listener = DiscoveryListener(host: host, port: port, group: group, logger: logger)
        let result: Result<ServerAnnouncement, MessagingError>
        do {
            result = .success(try await listener.nextAnnouncement(timeout: timeout))
        } catch {
            result = .failure(error)
        }
        await listener.close()
        return try result.get()
    }

    /// Closes the socket for good and ends every subscriber's stream.
    public func close() async {
        let channel = core.close()
        try? await channel?.close()
    }
}

/// The state a listener shares with its channel handler.
private final class ListenerCore: Sendable {
    struct State {
        var channel: (any Channel)?
        var binding: EventLoopFuture<any Channel>?
        var closed = false
        var ignored = 0
        var received = 0
        var rejected: [BeaconRejection: Int] = [:]
        var warnings = RejectionLogLimit()
    }

    let state = NIOLockedValueBox(State())
    let subscribers = EventSubscribers<ServerAnnouncement>()
    let verifier: BeaconVerifier
    let buffered: Int
    let logger: Logger

    init(verifier: BeaconVerifier, buffered: Int, logger: Logger) {
        self.verifier = verifier
        self.buffered = buffered
        self.logger = logger
    }

    func bind(configuration: DiscoveryListener.Configuration, group: any EventLoopGroup) -> EventLoopFuture<any Channel> {
        var bootstrap = DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: max(64, configuration.maximumDatagramSize)))
        #if os(Linux) || os(Android) || canImport(Darwin) || os(FreeBSD)
        if configuration.reusePort {
            let reusePort = ChannelOptions.Types.SocketOption(
                level: .socket,
                name: NIOBSDSocket.Option(rawValue: CInt(SO_REUSEPORT))
            )
            bootstrap = bootstrap.channelOption(reusePort, value: 1)
        }
        #endif
        return bootstrap
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AnnouncementHandler(core: self))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
    }

    /// Records the bound channel (or forgets a failed bind); closes it when the listener was closed meanwhile.
    func finishBinding(_ result: Result<any Channel, any Error>) {
        let lateChannel = state.withLockedValue { s -> (any Channel)? in
            s.binding = nil
            guard case .success(let channel) = result else { return nil }
            if s.closed { return channel }
            s.channel = channel
            return nil
        }
        lateChannel?.close(promise: nil)
    }

    func subscribe() -> AsyncStream<ServerAnnouncement> {
        subscribers.subscribe(buffering: buffered)
    }

    /// Marks the listener closed, ends every stream, and returns the channel to close.
    func close() -> (any Channel)? {
        let channel = state.withLockedValue { s in
            s.closed = true
            defer { s.channel = nil }
            return s.channel
        }
        subscribers.finish()
        return channel
    }

    /// Reads one datagram and hands its announcement to every subscriber.
    func receive(_ datagram: ByteBuffer, from sender: SocketAddress) {
        let announcement: ServerAnnouncement
        switch verifier.verify(datagram, now: ServerDiscovery.now()) {
        case .success(let a):
            announcement = a
        case .failure(let rejection):
            ignore(rejection, sender: sender, size: datagram.readableBytes)
            return
        }
        state.withLockedValue { $0.received += 1 }
        logger.debug("server announcement", metadata: ["from": "\(sender)", "announcement": "\(announcement)"])
        subscribers.publish(announcement)
    }

    private func ignore(_ rejection: BeaconRejection, sender: SocketAddress, size: Int) {
        let metadata: Logger.Metadata = ["from": "\(sender)", "bytes": "\(size)", "reason": "\(rejection)"]
        guard rejection.isSignatureRejection else {
            state.withLockedValue { $0.ignored += 1 }
            logger.debug("ignoring discovery datagram", metadata: metadata)
            return
        }
        // Warn once per sender address and reason: a flood of bad beacons is a few lines.
        let host = sender.ipAddress ?? "\(sender)"
        let decision = state.withLockedValue { s -> RejectionLogLimit.Decision in
            s.ignored += 1
            s.rejected[rejection, default: 0] += 1
            return s.warnings.record(sender: host, reason: rejection.kind)
        }
        switch decision {
        case .warn:
            logger.warning(
                "ignoring \(rejection.kind) discovery beacon from \(host) (reported once per sender and reason)",
                metadata: metadata
            )
        case .warnFull:
            logger.warning("ignoring discovery beacons with bad signatures from many senders; no more are reported", metadata: metadata)
        case .quiet:
            logger.debug("ignoring discovery beacon", metadata: metadata)
        }
    }
}

/// Feeds received datagrams to the listener; never closes the socket on a bad one.
private final class AnnouncementHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let core: ListenerCore

    init(core: ListenerCore) {
        self.core = core
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        core.receive(envelope.data, from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        core.logger.debug("discovery socket error (ignored)", metadata: ["error": "\(error)"])
    }
}

@available(*, unavailable)
extension AnnouncementHandler: Sendable {}
