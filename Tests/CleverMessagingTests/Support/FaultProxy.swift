import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP proxy that misbehaves on demand, for tests of links over a
/// poor network: it throttles each direction to a number of bytes per second,
/// delays what it forwards, pauses (an outage: it holds what it has, forwards
/// nothing and reads no more, while both TCP connections stay open), resumes,
/// and cuts every connection.
///
/// Each accepted connection is paired with a new connection to the target on
/// the same event loop; a ``FaultProxyForwarder`` per direction moves the
/// bytes. Nothing is read faster than it can be forwarded (the forwarder reads
/// only while it holds less than ``FaultProxySettings/highWater`` bytes and
/// writes only while the other side is writable), so a throttled direction
/// pushes back on its sender through TCP, as a slow link does. The proxy's
/// sockets have small receive buffers, so that what the proxy's TCP
/// acknowledges to a sender is close to what it forwarded: little hides in
/// the proxy's buffers that a real link would not hold.
final class FaultProxy: Sendable {
    /// The proxy's listening port on 127.0.0.1.
    let port: Int
    /// The address to connect to instead of the target.
    let address: SocketAddress
    private let server: any Channel
    private let settings: NIOLockedValueBox<FaultProxySettings>
    private let pairs: NIOLockedValueBox<[FaultProxyPair]>

    private init(server: any Channel, settings: NIOLockedValueBox<FaultProxySettings>, pairs: NIOLockedValueBox<[FaultProxyPair]>) throws {
        self.server = server
        self.settings = settings
        self.pairs = pairs
        guard let port = server.localAddress?.port else { throw ChannelError.inappropriateOperationForState }
        self.port = port
        self.address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
    }

    /// Starts a proxy on a free loopback port that forwards to `target`.
    /// - Parameters:
    ///   - target: where accepted connections are forwarded.
    ///   - group: the event loops of the proxy's channels.
    ///   - settings: the initial faults (default: none).
    ///   - receiveBuffer: `SO_RCVBUF` of the proxy's sockets (default 64 KiB; the kernel doubles it).
    static func start(
        to target: SocketAddress,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        settings initial: FaultProxySettings = FaultProxySettings(),
        receiveBuffer: Int = 64 * 1024
    ) async throws -> FaultProxy {
        let buffer = SocketOptionValue(receiveBuffer)
        let settings = NIOLockedValueBox(initial)
        let pairs = NIOLockedValueBox<[FaultProxyPair]>([])
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.socketOption(.so_rcvbuf), value: buffer)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.socketOption(.so_rcvbuf), value: buffer)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .channelOption(.autoRead, value: false)
                    .channelOption(.socketOption(.so_rcvbuf), value: buffer)
                    .connect(to: target)
                    .flatMapThrowing { outbound in
                        let pair = try FaultProxyPair.wire(client: inbound, target: outbound, settings: settings)
                        pairs.withLockedValue { $0.append(pair) }
                        inbound.closeFuture.whenComplete { _ in
                            pairs.withLockedValue { $0.removeAll { $0 === pair } }
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return try FaultProxy(server: server, settings: settings, pairs: pairs)
    }

    /// Limits each direction to a number of bytes per second (`nil`: unlimited).
    /// - Parameters:
    ///   - upstream: from the proxy's clients to the target.
    ///   - downstream: from the target to the clients.
    func throttle(upstream: Int?, downstream: Int?) {
        change { $0.upstreamBytesPerSecond = upstream; $0.downstreamBytesPerSecond = downstream }
    }

    /// Holds every byte for `delay` before forwarding it (both directions).
    func delay(_ delay: Duration) {
        let nanoseconds = Int64(delay / .nanoseconds(1))
        change { $0.delay = .nanoseconds(nanoseconds) }
    }

    /// An outage: nothing more is read or forwarded; the connections stay open.
    func pause() {
        change { $0.paused = true }
    }

    /// Ends an outage: what was held goes on, then the rest.
    func resume() {
        change { $0.paused = false }
    }

    /// Closes every connection through the proxy (new ones are still accepted).
    func cutAll() {
        for pair in pairs.withLockedValue({ $0 }) { pair.close() }
    }

    /// Closes every connection and stops listening.
    func close() async {
        cutAll()
        try? await server.close()
    }

    /// The bytes forwarded so far by the live connections, per direction.
    var forwarded: (upstream: Int, downstream: Int) {
        pairs.withLockedValue { $0 }.reduce((0, 0)) { sum, pair in
            let counts = pair.forwarded
            return (sum.0 + counts.upstream, sum.1 + counts.downstream)
        }
    }

    private func change(_ body: (inout FaultProxySettings) -> Void) {
        settings.withLockedValue(body)
        for pair in pairs.withLockedValue({ $0 }) { pair.kick() }
    }
}
