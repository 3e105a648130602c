import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// A client's first link opens at once and offers its delivery session on the
/// open link: a station's first requests are answered in the same write as the
/// hello, without waiting a round trip; the hello's answer (protocol version
/// included) starts acknowledged delivery, or closes the link.
@Suite("Delivery hello on a client's first link")
struct FirstLinkDeliveryTests {
    struct Harness {
        let channel = EmbeddedChannel()
        let connection: Connection

        init() throws {
            let registry = HandlerRegistry()
            registry.onRequest("id") { _, _, _ in "drone-1" }
            connection = Connection(
                eventLoop: channel.eventLoop, registry: registry, configuration: ConnectionConfiguration(),
                delivery: .client(session: DeliverySession.makeID())
            )
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        /// Frames from a server of this library (they carry its `x-clever` key).
        func feed(_ frames: Frame...) throws {
            var writer = FrameWriter(marker: ExtensionHeader.capabilities)
            var bytes = ByteBuffer()
            for frame in frames { try writer.write(frame, into: &bytes) }
            try channel.writeInbound(bytes)
            channel.pipeline.fireChannelReadComplete()
        }

        /// The writes since the last call, each as the frames it held.
        func writes() throws -> [[Frame]] {
            channel.embeddedEventLoop.run()
            var writes: [[Frame]] = []
            var decoder = FrameDecoder()
            while var bytes = try channel.readOutbound(as: ByteBuffer.self) {
                var frames: [Frame] = []
                while let part = try decoder.decode(buffer: &bytes) {
                    if case .frame(let frame) = part { frames.append(frame) }
                }
                writes.append(frames)
            }
            return writes
        }

        /// The station's `id` request came, and the client wrote its hello and its answer; returns the hello's request id.
        func helloAfterID() throws -> JSONValue {
            #expect(connection.isConnected, "the link is open before the server said anything")
            try feed(.request("id", id: "0001"))
            let writes = try writes()
            #expect(writes.count == 1, "the hello and the answer go in one write")
            let frames = writes.flatMap { $0 }
            #expect(frames.map { $0.header.messageType } == [.request, .response])
            let hello = try #require(frames.first?.content.jsonValue)
            #expect(hello["requested_value"] == .string(ExtensionHeader.sessionHello))
            #expect(hello["kwargs"]?[ProtocolVersion.key] == .integer(ProtocolVersion.current))
            #expect(frames.last?.content.jsonValue?["value"] == "drone-1")
            return try #require(hello["request_id"])
        }
    }

    @Test("the hello goes with the answer to the station's first request; its answer starts acknowledged delivery")
    func agreed() throws {
        let harness = try Harness()
        defer { _ = try? harness.channel.finish() }
        let helloID = try harness.helloAfterID()
        #expect(!harness.connection.deliversAcknowledged)
        try harness.feed(.response(ExtensionHeader.sessionHello, id: helloID, value: ["acked": 0, "version": .integer(ProtocolVersion.current)]))
        #expect(harness.connection.deliversAcknowledged)
        #expect(try harness.connection.enqueueMessage("led", args: [1]).guarantee == .delivered)
    }

    @Test("a server of another protocol version: the open link is closed with incompatible_version")
    func otherVersion() throws {
        let harness = try Harness()
        defer { _ = try? harness.channel.finish() }
        let helloID = try harness.helloAfterID()
        try harness.feed(.response(ExtensionHeader.sessionHello, id: helloID, value: ["acked": 0, "version": .integer(ProtocolVersion.current + 1)]))
        harness.channel.embeddedEventLoop.run()
        #expect(!harness.channel.isActive)
        let failure = try #require(harness.connection.lastHandshakeFailure)
        #expect(failure.reason == .incompatibleVersion)
        #expect(failure.message.contains("\(ProtocolVersion.current + 1)") && failure.message.contains("\(ProtocolVersion.current)"))
    }

    @Test("a server that refuses this side's version: the open link is closed with incompatible_version")
    func refusedVersion() throws {
        let harness = try Harness()
        defer { _ = try? harness.channel.finish() }
        let helloID = try harness.helloAfterID()
        var refusal = Frame.response(ExtensionHeader.sessionHello, id: helloID, value: .null)
        refusal.content = .json([
            "value": .null,
            "error": RemoteError(code: "incompatible_version", message: "client speaks clever-messaging protocol 1, server speaks 2").jsonValue,
        ])
        try harness.feed(refusal)
        harness.channel.embeddedEventLoop.run()
        #expect(!harness.channel.isActive)
        #expect(harness.connection.lastHandshakeFailure?.reason == .incompatibleVersion)
        #expect(harness.connection.lastHandshakeFailure?.message.contains("server speaks 2") == true)
    }
}
