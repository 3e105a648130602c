import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// The per-loop ping sweep, driven with explicit instants on an `EmbeddedChannel`
/// (no sleeping, no real clock in the decisions under test).
@Suite("PingSweeper on an EmbeddedChannel")
struct PingSweeperTests {
    /// A linked connection whose peer showed the extensions; pings every 1 s, 2 s timeout.
    struct Harness {
        let channel: EmbeddedChannel
        let connection: Connection

        init() throws {
            channel = EmbeddedChannel()
            var configuration = ConnectionConfiguration()
            configuration.pingInterval = .seconds(1)
            configuration.pingTimeout = .seconds(2)
            connection = Connection(eventLoop: channel.eventLoop, registry: HandlerRegistry(), configuration: configuration)
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            var hello = ByteBuffer()
            var writer = FrameWriter(marker: ExtensionHeader.capabilities)
            try writer.write(.action("hello"), into: &hello)
            try channel.writeInbound(hello)
            channel.pipeline.fireChannelReadComplete()
        }

        /// Pretends the peer last sent bytes at `instant`.
        func peerSpoke(at instant: NIODeadline) {
            connection.lastInbound.withLockedValue { $0 = instant }
        }

        /// The requested values of the requests written since the last call.
        func writtenRequests() throws -> [String] {
            channel.embeddedEventLoop.run()
            var decoder = FrameDecoder()
            var names: [String] = []
            while var bytes = try channel.readOutbound(as: ByteBuffer.self) {
                while let part = try decoder.decode(buffer: &bytes) {
                    if case .frame(let frame) = part, frame.header.messageType == .request,
                       case .string(let name)? = frame.content.jsonValue?["requested_value"] {
                        names.append(name)
                    }
                }
            }
            return names
        }
    }

    @Test("a silent peer is pinged once per interval; a peer that talks is not pinged")
    func pingsOnlyWhenSilent() throws {
        let harness = try Harness()
        defer { _ = try? harness.channel.finish() }
        #expect(PingSweeper.memberCount(on: harness.channel.eventLoop) == 1)
        let start = NIODeadline.now()

        // The peer spoke 0.3 s ago when the first ping falls due: no ping, it is alive.
        harness.peerSpoke(at: start + .milliseconds(1200))
        harness.connection.pingIfDue(now: start + .milliseconds(1500))
        #expect(try harness.writtenRequests() == [])

        // Silent for a whole interval since then: one ping, and no second one while it is unanswered.
        harness.connection.pingIfDue(now: start + .milliseconds(2300))
        #expect(try harness.writtenRequests() == [ExtensionHeader.ping])
        harness.connection.pingIfDue(now: start + .milliseconds(3400))
        #expect(try harness.writtenRequests() == [])
        #expect(harness.connection.pendingRequestCount == 1)
        #expect(harness.channel.isActive)
    }

    @Test("an unanswered ping from a silent peer drops the link and leaves the sweep")
    func silentPeerDropped() throws {
        let harness = try Harness()
        let start = NIODeadline.now()
        harness.peerSpoke(at: start - .seconds(5))
        harness.connection.pingIfDue(now: start + .milliseconds(1100))
        #expect(try harness.writtenRequests() == [ExtensionHeader.ping])
        harness.connection.pingIfDue(now: start + .milliseconds(3000))
        #expect(harness.channel.isActive, "not yet: the timeout is 2 s from the ping")
        harness.connection.pingIfDue(now: start + .milliseconds(3200))
        harness.channel.embeddedEventLoop.run()
        #expect(!harness.channel.isActive)
        #expect(harness.connection.pendingRequestCount == 0)
        #expect(PingSweeper.memberCount(on: harness.channel.eventLoop) == 0)
    }

    @Test("a peer busy sending but late with the answer keeps its link; the next ping goes out")
    func latePeerKept() throws {
        let harness = try Harness()
        defer { _ = try? harness.channel.finish() }
        let start = NIODeadline.now()
        harness.peerSpoke(at: start - .seconds(5))
        harness.connection.pingIfDue(now: start + .milliseconds(1100))
        #expect(try harness.writtenRequests() == [ExtensionHeader.ping])
        harness.peerSpoke(at: start + .milliseconds(2000))
        harness.connection.pingIfDue(now: start + .milliseconds(3200))
        #expect(harness.channel.isActive)
        #expect(harness.connection.pendingRequestCount == 0, "the unanswered ping is given up")
        harness.connection.pingIfDue(now: start + .milliseconds(4300))
        #expect(try harness.writtenRequests() == [ExtensionHeader.ping])
    }

    @Test("a tick looks only at the members that are due, once each, and drops a stale entry left by an earlier link")
    func bucketsFollowDueTimes() throws {
        let harness = try Harness()
        defer { _ = try? harness.channel.finish() }
        let loop = harness.channel.eventLoop
        let start = NIODeadline.now()
        harness.peerSpoke(at: start - .seconds(5))
        #expect(PingSweeper.scheduledCount(on: loop) == 1)

        // Not due yet: nothing is taken out, nothing is sent.
        PingSweeper.sweep(loop, now: start + .milliseconds(100))
        #expect(PingSweeper.scheduledCount(on: loop) == 1)
        #expect(try harness.writtenRequests() == [])

        // The same connection linked again (as after a reconnect) leaves its old entry stale.
        PingSweeper.add(harness.connection, tick: .milliseconds(250), firstLook: start + .milliseconds(500))
        #expect(PingSweeper.memberCount(on: loop) == 1)
        #expect(PingSweeper.scheduledCount(on: loop) == 2)

        // Both entries are due: one look, one ping, one new entry for the next look.
        PingSweeper.sweep(loop, now: start + .seconds(2))
        #expect(try harness.writtenRequests() == [ExtensionHeader.ping])
        #expect(PingSweeper.scheduledCount(on: loop) == 1)
    }

    @Test("the sweep period follows the configuration, within 5 ms and 1 s; no pings, no sweep")
    func tick() {
        var configuration = ConnectionConfiguration()
        #expect(PingSweeper.tick(for: configuration) == .seconds(1))
        configuration.pingInterval = .milliseconds(100)
        #expect(PingSweeper.tick(for: configuration) == .milliseconds(25))
        configuration.pingInterval = .milliseconds(1)
        #expect(PingSweeper.tick(for: configuration) == .milliseconds(5))
        configuration.pingInterval = nil
        #expect(PingSweeper.tick(for: configuration) == nil)
    }
}
