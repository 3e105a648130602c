import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Announces a server over UDP (PROTOCOL.md section 5): one ``ServerAnnouncement``
/// frame per datagram, every ``Configuration/interval``.
///
/// The default target is `127.0.0.1:8181`, so that nothing leaves the host
/// unless asked. To reach a whole LAN as the reference does (`255.255.255.255`),
/// use ``Configuration/broadcast(port:interval:)``, or give the target yourself
/// with `allowBroadcast: true` (which sets `SO_BROADCAST`); a beacon aimed at
/// `255.255.255.255` without it fails with ``MessagingError/broadcastNotAllowed(host:port:)``.
///
/// On Linux a unicast datagram reaches only one of the sockets that share a
/// port (`SO_REUSEADDR`/`SO_REUSEPORT`); broadcast reaches all of them. When a
/// client and a server's ``DuplicateServerGuard`` listen on the same host and
/// port, broadcast is the way to reach both.
///
/// With a ``Configuration/key``, each datagram is signed with it at the time it
/// is sent (``BeaconVerifier/signedDatagram(_:key:at:)``); without one, it is
/// the reference's datagram byte for byte.
///
/// The socket is opened on the first send (bound to an ephemeral port on the
/// wildcard address of the target's family) and kept until ``run()`` ends or
/// ``close()`` is called.
public final class DiscoveryBeacon: Sendable {
    /// Where and how often a beacon sends.
    public struct Configuration: Sendable, Hashable {
        /// The target address: an IP address, or a host name resolved on each send.
        /// Default `"127.0.0.1"`.
        public var host: String
        /// The target UDP port. Default 8181, the reference's.
        public var port: Int
        /// The time between two datagrams of ``DiscoveryBeacon/run()``. Default 3 s, the reference's.
        public var interval: Duration
        /// Whether the socket may broadcast (`SO_BROADCAST`). Default `false`.
        public var allowBroadcast: Bool
        /// The key that signs each datagram; `nil` (the default) sends the reference's unsigned beacon.
        public var key: DiscoveryKey?

        /// Creates a configuration.
        /// - Parameters:
        ///   - host: the target address (default `"127.0.0.1"`).
        ///   - port: the target port (default 8181).
        ///   - interval: the time between datagrams (default 3 s).
        ///   - allowBroadcast: whether to set `SO_BROADCAST` (default `false`).
        ///   - key: the key that signs each datagram (default: none, unsigned).
        public init(
            host: String = "127.0.0.1",
            port: Int = 8181,
            interval: Duration = .seconds(3),
            allowBroadcast: Bool = false,
            key: DiscoveryKey? = nil
        ) {
            self.host = host
            self.port = port
            self.interval = interval
            self.allowBroadcast = allowBroadcast
            self.key = key
        }

        /// The reference's behaviour: broadcast to `255.255.255.255` with `SO_BROADCAST`.
        /// - Parameters:
        ///   - port: the target port (default 8181).
        ///   - interval: the time between datagrams (default 3 s).
        /// - Returns: the configuration (unsigned: set ``key`` to sign it).
        public static func broadcast(port: Int = 8181, interval: Duration = .seconds(3)) -> Configuration {
            Configuration(host: broadcastAddress, port: port, interval: interval, allowBroadcast: true)
        }

        /// The limited broadcast address, `"255.255.255.255"`.
        public static let broadcastAddress = "255.255.255.255"
    }

    /// What is announced.
    public let announcement: ServerAnnouncement
    /// Where and how often.
    public let configuration: Configuration
    /// The logger.
    public let logger: Logger

    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(SocketState.idle)

    private enum SocketState {
        case idle
        case opening(EventLoopFuture<any Channel>)
        case open(any Channel)
        case closed
    }

    /// Creates a beacon; nothing is sent until ``sendOnce()`` or ``run()``.
    /// - Parameters:
    ///   - announcement: what to announce.
    ///   - configuration: the target and interval (default: `127.0.0.1:8181` every 3 s).
    ///   - group: the event loops (default: NIO's shared group).
    ///   - logger: where to log.
    public init(
        announcement: ServerAnnouncement,
        configuration: Configuration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "clever.discovery")
    ) {
        self.announcement = announcement
        self.configuration = configuration
        self.group = group
        self.logger = logger
    }

    /// Creates a beacon aimed at `host:port`.
    /// - Parameters:
    ///   - announcement: what to announce.
    ///   - host: the target address (default `"127.0.0.1"`).
    ///   - port: the target port (default 8181).
    ///   - interval: the time between datagrams (default 3 s).
    ///   - allowBroadcast: whether to set `SO_BROADCAST` (default `false`).
    ///   - group: the event loops (default: NIO's shared group).
    ///   - logger: where to log.
    public convenience init(
        announcement: ServerAnnouncement,
        host: String = "127.0.0.1",
        port: Int = 8181,
        interval: Duration = .seconds(3),
        allowBroadcast: Bool = false,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "clever.discovery")
    ) {
        self.init(
            announcement: announcement,
            configuration: Configuration(host: host, port: port, interval: interval, allowBroadcast: allowBroadcast),
            group: group,
            logger: logger
        )
    }

    /// The encoded datagram: one `server_ip` frame, as the reference writes it,
    /// signed now when the configuration has a key.
    /// - Throws: ``MessagingError/encoding(_:)``.
    public func datagram() throws(MessagingError) -> ByteBuffer {
        if let key = configuration.key {
            return try BeaconVerifier.signedDatagram(announcement, key: key, at: ServerDiscovery.now())
        }
        var bytes = ByteBuffer()
        var writer = FrameWriter()
        do throws(FrameEncodingError) {
            try writer.write(announcement.frame, into: &bytes)
        } catch {
            throw .encoding(error)
        }
        return bytes
    }

    /// Sends one announcement datagram.
    /// - Throws: ``MessagingError``: the target is invalid or a refused broadcast,
    ///   the socket cannot be opened, the beacon is closed, or the send failed.
    public func sendOnce() async throws(MessagingError) {
        let target = try resolveTarget()
        let bytes = try datagram()
        let channel = try await openChannel(for: target)
        do {
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: bytes)).get()
        } catch {
            throw .beaconSendFailed(host: configuration.host, port: configuration.port, reason: LogFormat.error(error))
        }
        logger.trace("beacon sent", metadata: ["target": "\(target)", "announcement": "\(announcement)"])
    }

    /// Sends an announcement at once and then every ``Configuration/interval``
    /// until the calling task is cancelled or ``close()`` is called; then closes
    /// the socket. A failed send is logged and retried at the next interval.
    /// - Throws: ``MessagingError`` when the target is invalid or a refused
    ///   broadcast, or the socket cannot be opened.
    public func run() async throws(MessagingError) {
        defer { releaseChannel() }
        logger.debug(
            "announcing",
            metadata: [
                "target": "\(configuration.host):\(configuration.port)",
                "announcement": "\(announcement)",
            ]
        )
        while !Task.isCancelled {
            do {
                try await sendOnce()
            } catch {
                switch error {
                case .beaconSendFailed:
                    logger.warning("\(error)")
                case .closed:
                    return
                default:
                    throw error
                }
            }
            do {
                try await Task.sleep(for: configuration.interval)
            } catch {
                return
            }
        }
    }

    /// Closes the socket for good: later sends throw ``MessagingError/closed``
    /// and ``run()`` returns.
    public func close() async {
        let previous = state.withLockedValue { s -> SocketState in
            defer { s = .closed }
            return s
        }
        switch previous {
        case .open(let channel): try? await channel.close()
        case .opening(let future): try? await future.get().close()
        case .idle, .closed: break
        }
    }

    /// Closes the socket but leaves the beacon usable (the next send opens another).
    private func releaseChannel() {
        let previous = state.withLockedValue { s -> SocketState in
            guard case .closed = s else {
                defer { s = .idle }
                return s
            }
            return .closed
        }
        switch previous {
        case .open(let channel): channel.close(promise: nil)
        case .opening(let future): future.whenSuccess { $0.close(promise: nil) }
        case .idle, .closed: break
        }
    }

    private func resolveTarget() throws(MessagingError) -> SocketAddress {
        let host = configuration.host
        let port = configuration.port
        guard PortRange.connectable.contains(port) else {
            throw .invalidAddress(
                host: host, port: port, reason: "a port must be in \(PortRange.connectable.lowerBound)...\(PortRange.connectable.upperBound)"
            )
        }
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            do {
                address = try SocketAddress.makeAddressResolvingHost(host, port: port)
            } catch {
                throw .invalidAddress(host: host, port: port, reason: "\(error)")
            }
        }
        if address.ipAddress == Configuration.broadcastAddress && !configuration.allowBroadcast {
            throw .broadcastNotAllowed(host: host, port: port)
        }
        return address
    }

    private func openChannel(for target: SocketAddress) async throws(MessagingError) -> any Channel {
        enum Step {
            case ready(any Channel)
            case wait(EventLoopFuture<any Channel>)
            case closed
        }
        let bindHost: String
        if case .v6 = target { bindHost = "::" } else { bindHost = "0.0.0.0" }
        let allowBroadcast = configuration.allowBroadcast
        let group = self.group
        let step = state.withLockedValue { s -> Step in
            switch s {
            case .open(let channel): return .ready(channel)
            case .opening(let future): return .wait(future)
            case .closed: return .closed
            case .idle:
                let future = DatagramBootstrap(group: group)
                    .channelOption(.socketOption(.so_broadcast), value: allowBroadcast ? 1 : 0)
                    .bind(host: bindHost, port: 0)
                s = .opening(future)
                return .wait(future)
            }
        }
        let future: EventLoopFuture<any Channel>
        switch step {
        case .ready(let channel): return channel
        case .closed: throw .closed
        case .wait(let f): future = f
        }
        let channel: any Channel
        do {
            channel = try await future.get()
        } catch {
            state.withLockedValue { s in
                if case .opening(let f) = s, f === future { s = .idle }
            }
            throw .bindFailed(host: bindHost, port: 0, reason: LogFormat.error(error))
        }
        let usable = state.withLockedValue { s -> Bool in
            switch s {
            case .opening(let f) where f === future:
                s = .open(channel)
                return true
            case .open(let current):
                return current === channel
            default:
                return false
            }
        }
        guard usable else {
            channel.close(promise: nil)
            throw .closed
        }
        return channel
    }
}
