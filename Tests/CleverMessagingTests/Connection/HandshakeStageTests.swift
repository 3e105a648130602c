import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// Handshake stages on a link, driven through an `EmbeddedChannel`: the link is
/// held until every stage passed; time is the embedded loop's own.
@Suite("Handshake stages on an EmbeddedChannel")
struct HandshakeStageTests {
    struct TokenFactory: HandshakeStageFactory {
        var timeout: Duration?
        func makeStage(for link: HandshakeLink) -> any HandshakeStage { TokenStage(expected: "s3cret", timeout: timeout) }
    }

    struct Harness {
        let channel: EmbeddedChannel
        let connection: Connection
        let received: NIOLockedValueBox<[String]>

        init(_ stages: [any HandshakeStageFactory], timeout: Duration = .seconds(10)) throws {
            channel = EmbeddedChannel()
            let received = NIOLockedValueBox<[String]>([])
            let registry = HandlerRegistry()
            registry.onAction("telemetry") { _, args, _ in received.withLockedValue { $0.append("telemetry \(args)") } }
            registry.onRequest("id") { _, _, _ in "drone-1" }
            var configuration = ConnectionConfiguration()
            configuration.handshake = stages
            configuration.handshakeTimeout = timeout
            connection = Connection(eventLoop: channel.eventLoop, registry: registry, configuration: configuration)
            self.received = received
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        func feed(_ frames: Frame...) throws {
            var writer = FrameWriter(marker: ExtensionHeader.capabilities)
            var bytes = ByteBuffer()
            for frame in frames { try writer.write(frame, into: &bytes) }
            try channel.writeInbound(bytes)
            channel.pipeline.fireChannelReadComplete()
        }

        /// The frames written since the last call, by action (or requested value).
        func written() throws -> [String] {
            channel.embeddedEventLoop.run()
            var decoder = FrameDecoder()
            var names: [String] = []
            while var bytes = try channel.readOutbound(as: ByteBuffer.self) {
                while let part = try decoder.decode(buffer: &bytes) {
                    guard case .frame(let frame) = part else { continue }
                    names.append(frame.header.action ?? frame.content.jsonValue?["requested_value"]?.stringValue ?? frame.header.requestedValue ?? "?")
                }
            }
            return names
        }
    }

    @Test("the default capability stage opens the link at once: the wire is as without stages")
    func defaultOpensAtOnce() throws {
        let harness = try Harness([CapabilityStage.Factory()])
        defer { _ = try? harness.channel.finish() }
        #expect(harness.connection.isConnected)
        try harness.connection.enqueueMessage("led", args: [1])
        #expect(try harness.written() == ["led"])
    }

    @Test("nothing is dispatched and nothing queued is written until every stage passed")
    func heldUntilPassed() throws {
        let harness = try Harness([CapabilityStage.Factory(), TokenFactory()])
        defer { _ = try? harness.channel.finish() }
        #expect(try harness.written() == ["hello"], "the stage speaks first")
        #expect(!harness.connection.isConnected)
        try harness.connection.enqueueMessage("led", args: [1])
        try harness.feed(.action("telemetry", args: [1]))
        #expect(try harness.written() == [])
        #expect(harness.received.withLockedValue { $0 }.isEmpty)

        try harness.feed(.action("token", args: ["s3cret"]), .action("telemetry", args: [2]))
        #expect(harness.connection.isConnected)
        #expect(try harness.written() == ["welcome", "led"])
        #expect(harness.received.withLockedValue { $0 } == ["telemetry [1]", "telemetry [2]"], "held frames first, in order")
        #expect(harness.connection.peerSpeaksExtensions)
    }

    @Test("closing during the handshake: nothing held is dispatched, nothing queued is written")
    func closeWhileHandshaking() throws {
        let harness = try Harness([TokenFactory()])
        #expect(try harness.written() == ["hello"])
        try harness.connection.enqueueMessage("led", args: [1])
        try harness.feed(.action("telemetry", args: [1]))
        harness.connection.startClose()
        try harness.feed(.action("token", args: ["s3cret"]), .action("telemetry", args: [2]))
        harness.channel.embeddedEventLoop.run()
        #expect(try harness.written() == [])
        #expect(!harness.channel.isActive)
        #expect(harness.received.withLockedValue { $0 }.isEmpty)
        #expect(harness.connection.isClosed)
    }

    @Test("a rejected stage closes the link with its typed error, and waiters learn it")
    func rejected() throws {
        let harness = try Harness([TokenFactory()])
        // A waiter as `waitUntilConnected` registers one, kept on this thread: the
        // embedded loop is not thread-safe, so the test never awaits.
        let waiter = harness.channel.embeddedEventLoop.makePromise(of: Void.self)
        harness.connection.state.withLockedValue { $0.linkWaiters.append(waiter) }
        let outcome = NIOLockedValueBox<Result<Void, any Error>?>(nil)
        waiter.futureResult.whenComplete { result in outcome.withLockedValue { $0 = result } }
        try harness.feed(.action("token", args: ["guess"]))
        #expect(!harness.channel.isActive)
        let result = outcome.withLockedValue { $0 }
        guard case .failure(MessagingError.handshakeFailed(let error))? = result else {
            Issue.record("waiter got \(String(describing: result))")
            return
        }
        #expect(error.reason == .rejected)
        #expect(error.stage == "token")
    }

    @Test("a link that does not pass within handshakeTimeout is closed")
    func timesOut() throws {
        let harness = try Harness([TokenFactory()], timeout: .seconds(3))
        _ = try harness.written()
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(harness.channel.isActive)
        harness.channel.embeddedEventLoop.advanceTime(to: .now() + .seconds(4))
        #expect(!harness.channel.isActive)
        #expect(!harness.connection.isConnected)
    }

    @Test("a binary frame during the handshake fails it")
    func binaryRefused() throws {
        let harness = try Harness([TokenFactory()])
        var writer = FrameWriter()
        var bytes = ByteBuffer()
        try writer.write(Frame(header: FrameHeader(contentType: .binary, contentLength: 3, messageType: .message, action: Frame.fileTransferAction, filePath: "x"), content: .binary(ByteBuffer(bytes: [1, 2, 3]))), into: &bytes)
        try harness.channel.writeInbound(bytes)
        harness.channel.embeddedEventLoop.run()
        #expect(!harness.channel.isActive)
    }

    @Test("identify: the id and clover_dir requests go first; the identity is kept and names the peer")
    func identify() throws {
        let harness = try Harness([IdentifyStage.Factory(timeout: .seconds(5))])
        defer { _ = try? harness.channel.finish() }
        #expect(try harness.written() == ["id", "clover_dir"])
        try harness.feed(.response("id", id: "0001", value: "drone-9"), .response("clover_dir", id: "0002", value: "/home/pi/clover"))
        #expect(harness.connection.isConnected)
        #expect(harness.connection.handshakeResult(IdentifyStage.Identity.self) == IdentifyStage.Identity(id: "drone-9", cloverDirectory: "/home/pi/clover"))
        #expect(harness.connection.peerID == "drone-9")
        #expect(harness.connection.linkMetadata["drone"] == "drone-9")
        #expect(harness.connection.pendingRequestCount == 0, "handshake requests never enter the pending table")
        // The next request of the connection does not reuse the stage's ids.
        _ = try harness.connection.getResponse("time") { _, _, _, _ in }
        guard case .frame(let frame)? = try { () throws -> FramePart? in
            harness.channel.embeddedEventLoop.run()
            var bytes = try harness.channel.readOutbound(as: ByteBuffer.self)!
            var decoder = FrameDecoder()
            return try decoder.decode(buffer: &bytes)
        }() else {
            Issue.record("no request written")
            return
        }
        #expect(frame.content.jsonValue?["request_id"] == "0003")
    }

    @Test("identify with a silent peer: the handshake fails after the stage's timeout")
    func identifySilent() throws {
        let harness = try Harness([IdentifyStage.Factory(timeout: .seconds(2))])
        _ = try harness.written()
        harness.channel.embeddedEventLoop.advanceTime(to: .now() + .seconds(3))
        #expect(!harness.channel.isActive)
    }
}

@Suite("Handshake events on an EmbeddedChannel")
struct HandshakeEventChannelTests {
    struct EventFactory: HandshakeStageFactory {
        func makeStage(for link: HandshakeLink) -> any HandshakeStage { EventStage() }
    }

    @Test("a user event from below opens a link whose stage waits for it")
    func userEvent() throws {
        let harness = try HandshakeStageTests.Harness([EventFactory()])
        defer { _ = try? harness.channel.finish() }
        #expect(!harness.connection.isConnected)
        harness.channel.pipeline.fireUserInboundEventTriggered("tls done")
        #expect(harness.connection.isConnected)
        #expect(harness.connection.handshakeResult(String.self) == "tls done")
    }
}
