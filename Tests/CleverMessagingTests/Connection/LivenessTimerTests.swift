import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// The per-link liveness timer on an `EmbeddedChannel`, driven by the embedded
/// loop's clock (no sleeping). The decisions themselves are tested in `LivenessTests`.
@Suite("Liveness timer on an EmbeddedChannel")
struct LivenessTimerTests {
    struct Harness {
        let channel: EmbeddedChannel
        let connection: Connection

        init(showExtensions: Bool = true) throws {
            channel = EmbeddedChannel()
            var configuration = ConnectionConfiguration()
            configuration.pingInterval = .seconds(1)
            configuration.pingTimeout = .seconds(2)
            connection = Connection(eventLoop: channel.eventLoop, registry: HandlerRegistry(), configuration: configuration)
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            if showExtensions { try feed(.action("hello")) }
        }

        func feed(_ frame: Frame) throws {
            var bytes = ByteBuffer()
            var writer = FrameWriter(marker: ExtensionHeader.capabilities)
            try writer.write(frame, into: &bytes)
            try channel.writeInbound(bytes)
            channel.pipeline.fireChannelReadComplete()
        }

        /// Moves the loop's clock on by `amount`.
        func advance(_ amount: TimeAmount) {
            channel.embeddedEventLoop.advanceTime(by: amount)
            channel.embeddedEventLoop.run()
        }

        /// The ids of the pings written since the last call.
        func pings() throws -> [String] {
            channel.embeddedEventLoop.run()
            var decoder = FrameDecoder()
            var ids: [String] = []
            while var bytes = try channel.readOutbound(as: ByteBuffer.self) {
                while let part = try decoder.decode(buffer: &bytes) {
                    if case .frame(let frame) = part, frame.content.jsonValue?["requested_value"] == .string(ExtensionHeader.ping),
                       case .string(let id)? = frame.content.jsonValue?["request_id"] {
                        ids.append(id)
                    }
                }
            }
            return ids
        }
    }

    @Test("an idle link is pinged; with nothing moving for the timeout after it, the link is dropped")
    func silentPeerDropped() throws {
        let harness = try Harness()
        harness.advance(.milliseconds(1100))
        #expect(try harness.pings().count == 1)
        #expect(harness.connection.pendingEntryCount == 1)
        #expect(harness.connection.pendingRequestCount == 0, "the link's own ping is none of the user's requests")
        #expect(harness.channel.isActive)
        harness.advance(.milliseconds(1500))
        #expect(harness.channel.isActive, "the timeout runs from the ping")
        harness.advance(.seconds(2))
        #expect(!harness.channel.isActive)
        #expect(harness.connection.pendingEntryCount == 0, "the ping failed with the link")
    }

    @Test("an answered ping keeps the link, and the next idle interval brings the next ping")
    func answeredPingKept() throws {
        let harness = try Harness()
        defer { _ = try? harness.channel.finish() }
        harness.advance(.milliseconds(1100))
        let first = try harness.pings()
        #expect(first.count == 1)
        try harness.feed(.response(ExtensionHeader.ping, id: .string(first[0]), value: true))
        #expect(harness.connection.pendingEntryCount == 0)
        harness.advance(.milliseconds(900))
        #expect(try harness.pings().isEmpty, "the link moved bytes 0.9 s ago")
        harness.advance(.milliseconds(200))
        #expect(try harness.pings().count == 1, "idle for an interval again")
        #expect(harness.channel.isActive)
    }

    @Test("a reference peer (no x-clever seen) is never pinged nor dropped; one that shows the marker later is watched from then on")
    func referencePeerNeverPinged() throws {
        let harness = try Harness(showExtensions: false)
        defer { _ = try? harness.channel.finish() }
        harness.advance(.seconds(30))
        #expect(try harness.pings().isEmpty)
        #expect(harness.channel.isActive)
        try harness.feed(.action("hello"))
        harness.advance(.milliseconds(900))
        #expect(try harness.pings().isEmpty)
        harness.advance(.milliseconds(200))
        #expect(try harness.pings().count == 1)
    }
}
