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

/// The faults a ``FaultProxy`` applies.
struct FaultProxySettings: Sendable, Hashable {
    /// Bytes per second from clients to the target (`nil`: unlimited).
    var upstreamBytesPerSecond: Int?
    /// Bytes per second from the target to clients (`nil`: unlimited).
    var downstreamBytesPerSecond: Int?
    /// How long each byte is held before it is forwarded.
    var delay: TimeAmount = .zero
    /// Nothing is read or forwarded.
    var paused = false
    /// A direction stops reading while it holds this many bytes.
    var highWater = 64 * 1024

    /// Settings with no faults.
    init() {}

    func rate(_ direction: FaultProxyForwarder.Direction) -> Int? {
        direction == .upstream ? upstreamBytesPerSecond : downstreamBytesPerSecond
    }
}

/// A client's connection and its connection to the target, with a forwarder each way.
final class FaultProxyPair: Sendable {
    private let upstream: NIOLoopBound<FaultProxyForwarder>
    private let downstream: NIOLoopBound<FaultProxyForwarder>
    private let eventLoop: any EventLoop
    private let client: any Channel
    private let target: any Channel
    private let counts = NIOLockedValueBox((upstream: 0, downstream: 0))

    private init(client: any Channel, target: any Channel, upstream: FaultProxyForwarder, downstream: FaultProxyForwarder) {
        self.client = client
        self.target = target
        self.eventLoop = client.eventLoop
        self.upstream = NIOLoopBound(upstream, eventLoop: client.eventLoop)
        self.downstream = NIOLoopBound(downstream, eventLoop: client.eventLoop)
    }

    /// Wires the two channels together (on their shared event loop) and starts reading both.
    static func wire(client: any Channel, target: any Channel, settings: NIOLockedValueBox<FaultProxySettings>) throws -> FaultProxyPair {
        let up = FaultProxyForwarder(direction: .upstream, source: client, destination: target, settings: settings)
        let down = FaultProxyForwarder(direction: .downstream, source: target, destination: client, settings: settings)
        let pair = FaultProxyPair(client: client, target: target, upstream: up, downstream: down)
        up.counted = { [counts = pair.counts] n in counts.withLockedValue { $0.upstream += n } }
        down.counted = { [counts = pair.counts] n in counts.withLockedValue { $0.downstream += n } }
        try client.pipeline.syncOperations.addHandler(FaultProxySide(reading: up, writing: down))
        try target.pipeline.syncOperations.addHandler(FaultProxySide(reading: down, writing: up))
        up.readIfRoom()
        down.readIfRoom()
        return pair
    }

    /// The bytes forwarded each way.
    var forwarded: (upstream: Int, downstream: Int) { counts.withLockedValue { $0 } }

    /// Applies changed settings.
    func kick() {
        eventLoop.execute { [upstream, downstream] in
            upstream.value.pump()
            downstream.value.pump()
        }
    }

    /// Closes both connections.
    func close() {
        client.close(promise: nil)
        target.close(promise: nil)
    }
}

/// The handler on each of a pair's channels: what it reads goes to one
/// forwarder; its writability and end concern the other.
final class FaultProxySide: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let reading: FaultProxyForwarder
    private let writing: FaultProxyForwarder

    init(reading: FaultProxyForwarder, writing: FaultProxyForwarder) {
        self.reading = reading
        self.writing = writing
    }

    func channelActive(context: ChannelHandlerContext) {
        // An accepted channel is registered, and so can read, only after its pair is wired.
        reading.readIfRoom()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading.received(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading.readIfRoom()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writing.pump()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        reading.sourceClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension FaultProxySide: Sendable {}

/// One direction of a pair: holds what was read, and writes it on at the
/// throttled rate (a token bucket refilled as time passes, paced by a
/// scheduled timer), after the delay, while not paused and while the other
/// side is writable. Used on the pair's event loop only.
final class FaultProxyForwarder {
    /// Which way the bytes go.
    enum Direction: Sendable { case upstream, downstream }

    let direction: Direction
    private let source: any Channel
    private let destination: any Channel
    private let settings: NIOLockedValueBox<FaultProxySettings>
    /// Called with the count of each write made.
    var counted: (Int) -> Void = { _ in }
    private var held = CircularBuffer<(bytes: ByteBuffer, due: NIODeadline)>()
    private var heldBytes = 0
    private var tokens = 0.0
    private var refilled = NIODeadline.now()
    private var timer: NIODeadline?
    private var sourceEnded = false

    init(direction: Direction, source: any Channel, destination: any Channel, settings: NIOLockedValueBox<FaultProxySettings>) {
        self.direction = direction
        self.source = source
        self.destination = destination
        self.settings = settings
    }

    func received(_ bytes: ByteBuffer) {
        let delay = settings.withLockedValue { $0.delay }
        heldBytes += bytes.readableBytes
        held.append((bytes, .now() + delay))
        pump()
    }

    /// Asks the source for more, unless paused, ended or holding enough.
    func readIfRoom() {
        let (paused, highWater) = settings.withLockedValue { ($0.paused, $0.highWater) }
        guard !paused, !sourceEnded, heldBytes < highWater else { return }
        source.read()
    }

    func sourceClosed() {
        sourceEnded = true
        pump()
    }

    /// Forwards what it may now; arms the pacing timer for the rest.
    func pump() {
        let (settings, now) = (settings.withLockedValue { $0 }, NIODeadline.now())
        guard !settings.paused else { return }
        let rate = settings.rate(direction)
        refill(rate: rate, now: now)
        var wrote = false
        while destination.isWritable, var first = held.first {
            if first.due > now {
                arm(first.due)
                break
            }
            var count = first.bytes.readableBytes
            if rate != nil {
                count = min(count, Int(tokens))
                guard count > 0 else {
                    let wanted = Double(min(first.bytes.readableBytes, Self.minimumBurst)) - tokens
                    arm(now + .nanoseconds(Int64(max(1_000_000, wanted / Double(rate!) * 1e9))))
                    break
                }
                tokens -= Double(count)
            }
            let slice = first.bytes.readSlice(length: count)!
            if first.bytes.readableBytes == 0 {
                held.removeFirst()
            } else {
                held[held.startIndex] = first
            }
            heldBytes -= count
            counted(count)
            destination.write(slice, promise: nil)
            wrote = true
        }
        if wrote { destination.flush() }
        if held.isEmpty && sourceEnded {
            destination.close(promise: nil)
            return
        }
        readIfRoom()
    }

    /// The bytes a throttled direction forwards at least at a time (unless fewer are held).
    private static let minimumBurst = 1024

    private func refill(rate: Int?, now: NIODeadline) {
        defer { refilled = now }
        guard let rate else { return }
        let elapsed = Double((now - refilled).nanoseconds) / 1e9
        // At most a twentieth of a second's worth accumulates: the pacing stays smooth.
        let burst = max(Double(rate) / 20, Double(Self.minimumBurst))
        tokens = min(burst, tokens + Double(rate) * max(0, elapsed))
    }

    private func arm(_ deadline: NIODeadline) {
        if let timer, timer <= deadline, timer > .now() { return }
        timer = deadline
        let bound = NIOLoopBound(self, eventLoop: destination.eventLoop)
        destination.eventLoop.scheduleTask(deadline: deadline) {
            let forwarder = bound.value
            if forwarder.timer == deadline { forwarder.timer = nil }
            forwarder.pump()
        }
    }
}

@available(*, unavailable)
extension FaultProxyForwarder: Sendable {}
