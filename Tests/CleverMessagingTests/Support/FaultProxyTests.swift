import CleverTestSupport
import NIOCore
import NIOPosix
import Testing

/// The fault proxy itself, with an echo server behind it and a raw client.
@Suite("Fault proxy")
struct FaultProxyTests {
    /// An echo server on a free loopback port.
    static func echoServer() async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    /// A client whose reads arrive as a stream of byte counts (finished when the link ends).
    static func client(to address: SocketAddress) async throws -> (channel: any Channel, received: AsyncStream<Int>) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation: continuation))
                }
            }
            .connect(to: address)
            .get()
        return (channel, stream)
    }

    /// Waits until `total` bytes came in; returns how many did before the stream ended or `timeout` passed.
    static func receive(_ total: Int, from stream: AsyncStream<Int>, within timeout: Duration = .seconds(20)) async -> Int {
        await withDeadline(timeout, else: -1) {
            var seen = 0
            for await count in stream {
                seen += count
                if seen >= total { break }
            }
            return seen
        }
    }

    static func payload(_ count: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0) })
    }

    @Test("forwards bytes both ways unchanged")
    func forwards() async throws {
        let server = try await Self.echoServer()
        let proxy = try await FaultProxy.start(to: server.localAddress!)
        let (channel, received) = try await Self.client(to: proxy.address)
        try await channel.writeAndFlush(Self.payload(100_000)).get()
        #expect(await Self.receive(100_000, from: received) == 100_000)
        #expect(proxy.forwarded.upstream == 100_000)
        #expect(proxy.forwarded.downstream == 100_000)
        try await channel.close()
        await proxy.close()
        try await server.close()
    }

    @Test("a throttled direction forwards no faster than its rate")
    func throttles() async throws {
        let server = try await Self.echoServer()
        let proxy = try await FaultProxy.start(to: server.localAddress!)
        proxy.throttle(upstream: 100_000, downstream: nil)
        let (channel, received) = try await Self.client(to: proxy.address)
        let start = ContinuousClock.now
        try await channel.writeAndFlush(Self.payload(150_000)).get()
        #expect(await Self.receive(150_000, from: received) == 150_000)
        let elapsed = ContinuousClock.now - start
        // 150 kB at 100 kB/s, less the first burst of a twentieth of a second: a
        // lower bound only (a loaded machine may take longer, never less).
        #expect(elapsed >= .milliseconds(1400), "took \(elapsed)")
        try await channel.close()
        await proxy.close()
        try await server.close()
    }

    @Test("paused, it forwards nothing and keeps the connections; resumed, it delivers what it held")
    func pausesAndResumes() async throws {
        let server = try await Self.echoServer()
        let proxy = try await FaultProxy.start(to: server.localAddress!)
        let (channel, received) = try await Self.client(to: proxy.address)
        try await channel.writeAndFlush(Self.payload(10)).get()
        #expect(await Self.receive(10, from: received) == 10)
        proxy.pause()
        try await channel.writeAndFlush(Self.payload(5_000)).get()
        // Real time is what is tested here: nothing may come through an outage.
        try await Task.sleep(for: .milliseconds(500))
        #expect(proxy.forwarded.upstream == 10)
        #expect(channel.isActive)
        proxy.resume()
        #expect(await Self.receive(5_000, from: received) == 5_000)
        try await channel.close()
        await proxy.close()
        try await server.close()
    }

    @Test("delayed bytes arrive no sooner than the delay")
    func delays() async throws {
        let server = try await Self.echoServer()
        let proxy = try await FaultProxy.start(to: server.localAddress!)
        proxy.delay(.milliseconds(200))
        let (channel, received) = try await Self.client(to: proxy.address)
        let start = ContinuousClock.now
        try await channel.writeAndFlush(Self.payload(10)).get()
        #expect(await Self.receive(10, from: received) == 10)
        // Delayed on the way there and on the way back.
        #expect(ContinuousClock.now - start >= .milliseconds(400))
        try await channel.close()
        await proxy.close()
        try await server.close()
    }

    @Test("cutting closes every connection through it")
    func cuts() async throws {
        let server = try await Self.echoServer()
        let proxy = try await FaultProxy.start(to: server.localAddress!)
        let (channel, received) = try await Self.client(to: proxy.address)
        try await channel.writeAndFlush(Self.payload(10)).get()
        #expect(await Self.receive(10, from: received) == 10)
        proxy.cutAll()
        try await channel.closeFuture.get()
        await proxy.close()
        try await server.close()
    }
}

private final class Echo: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

private final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let continuation: AsyncStream<Int>.Continuation

    init(continuation: AsyncStream<Int>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data).readableBytes)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }
}
