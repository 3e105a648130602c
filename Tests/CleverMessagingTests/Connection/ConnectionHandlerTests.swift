import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// The handler that decodes a link's bytes and hands frames to its connection,
/// driven through an `EmbeddedChannel`.
@Suite("ConnectionHandler on an EmbeddedChannel")
struct ConnectionHandlerTests {
    /// A connection on `channel`'s loop whose `go` action records its args.
    struct Harness {
        let channel: EmbeddedChannel
        let connection: Connection
        let received: NIOLockedValueBox<[[JSONValue]]>
        let handler: ConnectionHandler

        init() throws {
            channel = EmbeddedChannel()
            let received = NIOLockedValueBox<[[JSONValue]]>([])
            let registry = HandlerRegistry()
            registry.onAction("go") { _, args, _ in received.withLockedValue { $0.append(args) } }
            connection = Connection(eventLoop: channel.eventLoop, registry: registry)
            self.received = received
            handler = ConnectionHandler(connection: connection)
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        func feed(_ bytes: [UInt8]) throws {
            try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
            channel.pipeline.fireChannelReadComplete()
        }
    }

    /// `count` action frames back to back, each marked like this library's frames.
    static func actions(_ count: Int) throws -> [UInt8] {
        var writer = FrameWriter(marker: ExtensionHeader.capabilities)
        var buffer = ByteBuffer()
        for i in 0..<count {
            try writer.write(.action("go", args: [.integer(i), "x"], kwargs: ["k": .double(0.5)]), into: &buffer)
        }
        return Array(buffer.readableBytesView)
    }

    @Test("frames cut at every byte, and many in one read, all arrive in order")
    func splitsAndBatches() throws {
        let bytes = try Self.actions(3)
        for cut in 1..<bytes.count {
            let harness = try Harness()
            try harness.feed(Array(bytes[..<cut]))
            try harness.feed(Array(bytes[cut...]))
            #expect(harness.received.withLockedValue { $0 } == (0..<3).map { [.integer($0), "x"] })
            #expect(harness.channel.isActive)
        }
        let harness = try Harness()
        for byte in try Self.actions(50) { try harness.feed([byte]) }
        #expect(harness.received.withLockedValue { $0.count } == 50)
        #expect(harness.received.withLockedValue { $0.last } == [49, "x"])
    }

    @Test("a long run of partial reads does not let the kept bytes grow")
    func leftoverStaysSmall() throws {
        let one = try Self.actions(1)
        let harness = try Harness()
        // Every read ends one byte short of a frame boundary.
        var stream: [UInt8] = []
        for _ in 0..<2000 { stream += one }
        var offset = 0
        var largest = 0
        while offset < stream.count {
            let end = min(stream.count, offset == 0 ? one.count - 1 : offset + one.count)
            try harness.feed(Array(stream[offset..<end]))
            offset = end
            largest = max(largest, harness.handler.keptCapacity)
        }
        #expect(harness.received.withLockedValue { $0.count } == 2000)
        #expect(largest <= 4 * one.count)
        #expect(harness.handler.keptCapacity == 0)
    }

    @Test("a bad frame closes the link: the frames before it arrive, the bytes after it are ignored")
    func badFrameCloses() throws {
        let harness = try Harness()
        var bytes = try Self.actions(2)
        bytes += [0x00, 0x02, UInt8(ascii: "["), UInt8(ascii: "]")]  // a header that is not an object
        bytes += try Self.actions(1)
        try harness.feed(bytes)
        #expect(harness.received.withLockedValue { $0.count } == 2)
        #expect(!harness.channel.isActive)
        #expect(!harness.connection.isConnected)
        // Nothing more is decoded once the link failed.
        _ = try? harness.channel.writeInbound(harness.channel.allocator.buffer(bytes: try Self.actions(1)))
        #expect(harness.received.withLockedValue { $0.count } == 2)
    }

    @Test("responses in one read are matched together, in order with the frames between them, and before a bad frame closes the link")
    func responsesInOneRead() throws {
        let channel = EmbeddedChannel()
        let log = NIOLockedValueBox<[String]>([])
        let registry = HandlerRegistry()
        registry.onAction("go") { _, args, _ in log.withLockedValue { $0.append("action \(args[0])") } }
        // Without resends, requests still pending when the link closes fail then:
        // a response handed over only after the close would find nothing to answer.
        var configuration = ConnectionConfiguration()
        configuration.resendRequests = false
        let connection = Connection(eventLoop: channel.eventLoop, registry: registry, configuration: configuration)
        try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var ids: [String] = []
        for _ in 0..<4 {
            ids.append(
                try connection.getResponse("v", onError: { error in log.withLockedValue { $0.append("failed: \(error)") } }) { _, value, _, _ in
                    log.withLockedValue { $0.append("reply \(value)") }
                }
            )
        }
        var writer = FrameWriter()
        var bytes = ByteBuffer()
        try writer.write(.response("v", id: .string(ids[0]), value: 1), into: &bytes)
        try writer.write(.action("go", args: [10]), into: &bytes)
        try writer.write(.response("v", id: .string(ids[1]), value: 2), into: &bytes)
        try writer.write(.response("other", id: .string(ids[3]), value: 0), into: &bytes)  // names another value: dropped
        try writer.write(.response("v", id: .string(ids[2]), value: 3), into: &bytes)
        bytes.writeBytes([0x00, 0x02, UInt8(ascii: "["), UInt8(ascii: "]")])  // a header that is not an object
        try writer.write(.response("v", id: .string(ids[3]), value: 4), into: &bytes)  // after the bad frame: never read
        try channel.writeInbound(bytes)
        // The request whose only answers were dropped or never read fails with the link.
        #expect(log.withLockedValue { $0 } == ["reply 1", "action 10", "reply 2", "reply 3", "failed: \(MessagingError.connectionLost)"])
        #expect(!channel.isActive)
        #expect(connection.state.withLockedValue { $0.pending.count } == 0)
    }

    @Test("a link that ends inside a frame detaches cleanly and delivers nothing partial")
    func endInsideFrame() throws {
        let harness = try Harness()
        let bytes = try Self.actions(2)
        try harness.feed(Array(bytes[..<(bytes.count - 3)]))
        #expect(harness.received.withLockedValue { $0.count } == 1)
        _ = try harness.channel.finish(acceptAlreadyClosed: true)
        #expect(!harness.connection.isConnected)
        #expect(harness.received.withLockedValue { $0.count } == 1)
    }

    @Test("this library's header marker decodes to the shared extras; other extras still decode exactly")
    func markerExtras() throws {
        var writer = FrameWriter(marker: ExtensionHeader.capabilities)
        var buffer = ByteBuffer()
        try writer.write(.action("go"), into: &buffer)
        var decoder = FrameDecoder()
        let marked = try #require(try decoder.decode(buffer: &buffer))
        guard case .frame(let frame) = marked else { Issue.record("not a frame: \(marked)"); return }
        #expect(frame.header.extra == [ExtensionHeader.capabilities: 1])

        for extra: JSONObject in [
            [ExtensionHeader.capabilities: 2],
            [ExtensionHeader.capabilities: 1.0],
            [ExtensionHeader.capabilities: 1, "other": "x"],
            ["other": "x", ExtensionHeader.capabilities: 1],
        ] {
            var frame = Frame.action("go")
            frame.header.extra = extra
            var plain = FrameWriter()
            var bytes = ByteBuffer()
            try plain.write(frame, into: &bytes)
            let part = try #require(try decoder.decode(buffer: &bytes))
            guard case .frame(let decoded) = part else { Issue.record("not a frame: \(part)"); continue }
            #expect(decoded.header.extra == extra)
            #expect(Array(decoded.header.extra.keys) == Array(extra.keys))
        }
    }

    @Test("a long write goes out in slices of progressSlice bytes, each counted as progress when written")
    func longWritesInSlices() throws {
        let harness = try Harness()
        let payload = String(repeating: "z", count: 1000)
        let before = harness.connection.state.withLockedValue { $0.outbound.writesCompleted }
        var frames = 0
        while harness.connection.state.withLockedValue({ $0.outbound.bytes.readableBytes }) < 3 * Connection.progressSlice + 1000 {
            try harness.connection.enqueueMessage("bulk", args: [.string(payload)])
            frames += 1
        }
        let total = harness.connection.state.withLockedValue { $0.outbound.bytes.readableBytes }
        harness.connection.flushOutbound()
        var writes: [Int] = []
        var bytes = ByteBuffer()
        while var part = try harness.channel.readOutbound(as: ByteBuffer.self) {
            writes.append(part.readableBytes)
            bytes.writeBuffer(&part)
        }
        #expect(writes.count == 4)
        #expect(writes.dropLast().allSatisfy { $0 == Connection.progressSlice })
        #expect(writes.reduce(0, +) == total)
        #expect(try WireTestKit.decodeFrames(Array(bytes.readableBytesView)).count == frames)
        #expect(harness.connection.state.withLockedValue { $0.outbound.writesCompleted } - before == 4)
    }
}
