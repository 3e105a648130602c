import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// ``MessagingServer``'s fan-out of one encoded frame (``MessagingServer/enqueue(_:on:action:)``),
/// on embedded channels: no sockets, the loops run by hand.
@Suite("Server: fan-out of one encoded frame", .timeLimit(.minutes(1)))
struct BroadcastFanOutTests {
    /// A server-side connection on an embedded channel of `loop`, its link open.
    private static func link(on loop: EmbeddedEventLoop) throws -> (EmbeddedChannel, Connection) {
        let channel = EmbeddedChannel(loop: loop)
        let connection = Connection(eventLoop: loop, registry: HandlerRegistry())
        try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        loop.run()
        _ = try channel.readOutbound(as: ByteBuffer.self)
        return (channel, connection)
    }

    /// Every write the channel made since the last call, joined.
    private static func written(_ channel: EmbeddedChannel) throws -> ByteBuffer {
        var all = ByteBuffer()
        while var bytes = try channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&bytes) }
        return all
    }

    @Test("every link of every loop gets exactly the frame's bytes, also past a flush chunk; each receipt completes on its write")
    func everyLinkGetsTheBytes() async throws {
        let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
        // More than one chunk on the first loop, a few on the second.
        let counts = [2 * MessagingServer.flushChunk + 3, 5]
        var links: [(EmbeddedChannel, Connection)] = []
        for (loop, count) in zip(loops, counts) {
            for _ in 0..<count { links.append(try Self.link(on: loop)) }
        }
        let frame = try MessagingServer.encodeAction("led_fill", arguments: .values(args: [], kwargs: ["r": 255, "g": 0, "b": 128]))
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: HandlerRegistry())
        let results = server.enqueue(frame, on: links.map(\.1))
        #expect(results.map(\.connection.number) == links.map(\.1.number))
        for loop in loops { loop.run() }
        for ((channel, _), (_, result)) in zip(links, results) {
            let receipt = try result.get()
            #expect(receipt.guarantee == .written)
            try await receipt.written()
            #expect(try Self.written(channel) == frame)
        }
        // Sent twice: the second broadcast is the same bytes again, nothing of the first left over.
        let again = server.enqueue(frame, on: links.map(\.1))
        for loop in loops { loop.run() }
        for ((channel, _), (_, result)) in zip(links, again) {
            try await result.get().written()
            #expect(try Self.written(channel) == frame)
        }
        for (channel, _) in links { _ = try? channel.finish() }
    }

    @Test("a link that dropped and a closed connection are reported, the others still get the frame")
    func droppedLinksAreReported() async throws {
        let loop = EmbeddedEventLoop()
        let links = try (0..<4).map { _ in try Self.link(on: loop) }
        // One link drops before the fan-out, one connection is closed.
        try links[1].0.close().wait()
        loop.run()
        links[2].1.startClose()
        loop.run()
        let frame = try MessagingServer.encodeAction("land", arguments: .values(args: [], kwargs: [:]))
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: HandlerRegistry())
        let results = server.enqueue(frame, on: links.map(\.1))
        loop.run()
        #expect(throws: MessagingError.notConnected) { try results[1].result.get() }
        #expect(throws: MessagingError.closed) { try results[2].result.get() }
        for index in [0, 3] {
            try await results[index].result.get().written()
            #expect(try Self.written(links[index].0) == frame)
        }
        for (channel, _) in links { _ = try? channel.finish() }
    }

    @Test("a full queue refuses the frame on that link only")
    func fullQueueRefuses() async throws {
        let loop = EmbeddedEventLoop()
        var small = ConnectionConfiguration()
        let frame = try MessagingServer.encodeAction("led_fill", arguments: .values(args: [], kwargs: ["r": 1]))
        // Room for one frame: the second is refused.
        small.maximumQueuedBytes = frame.readableBytes - 1
        let channel = EmbeddedChannel(loop: loop)
        let crowded = Connection(eventLoop: loop, registry: HandlerRegistry(), configuration: small)
        try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: crowded))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        loop.run()
        _ = try Self.written(channel)
        // Filled before the fan-out (not flushed yet: the loop has not run).
        _ = try crowded.enqueueEncodedDeferringFlush(frame)
        let other = try Self.link(on: loop)
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: HandlerRegistry())
        let results = server.enqueue(frame, on: [crowded, other.1])
        #expect(throws: MessagingError.queueFull(queuedBytes: frame.readableBytes, limit: frame.readableBytes - 1)) { try results[0].result.get() }
        crowded.flushOutbound()
        loop.run()
        #expect(try Self.written(channel) == frame, "only the frame queued before")
        try await results[1].result.get().written()
        #expect(try Self.written(other.0) == frame)
        _ = try? channel.finish()
        _ = try? other.0.finish()
    }
}
