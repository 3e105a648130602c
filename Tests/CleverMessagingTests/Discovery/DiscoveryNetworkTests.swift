import CleverMessaging
import CleverTestSupport
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Real UDP and TCP on 127.0.0.1 only: beacons, listeners, client rebind, duplicate servers.
@Suite("Discovery: beacons, listeners, rebind and duplicate servers", .timeLimit(.minutes(1)))
struct DiscoveryNetworkTests {
    static let announcement = ServerAnnouncement(host: "127.0.0.1", port: 25000, id: "0815", startTime: 1700000000.123)

    /// A listener on an ephemeral loopback port.
    static func startListener() async throws -> (DiscoveryListener, Int) {
        let listener = DiscoveryListener(host: "127.0.0.1", port: 0)
        let address = try await listener.start()
        return (listener, try #require(address.port))
    }

    /// Sends raw datagrams from an ephemeral loopback port.
    static func sendRaw(_ datagrams: [[UInt8]], to port: Int) async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        for datagram in datagrams {
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: datagram))).get()
        }
        try await channel.close()
    }

    @Test("defaults: beacon to 127.0.0.1:8181 every 3 s without broadcast; listener on 0.0.0.0:8181")
    func defaults() {
        let configuration = DiscoveryBeacon.Configuration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8181)
        #expect(configuration.interval == .seconds(3))
        #expect(!configuration.allowBroadcast)
        let broadcast = DiscoveryBeacon.Configuration.broadcast()
        #expect(broadcast.host == "255.255.255.255" && broadcast.allowBroadcast && broadcast.port == 8181)
        let listener = DiscoveryListener.Configuration()
        #expect(listener.host == "0.0.0.0" && listener.port == 8181)
        #expect(ClientDiscovery().listener.port == 8181)
    }

    @Test("a beacon aimed at the broadcast address without allowBroadcast refuses to send")
    func broadcastRefused() async throws {
        let beacon = DiscoveryBeacon(announcement: Self.announcement, host: "255.255.255.255", port: 8181)
        await #expect(throws: MessagingError.broadcastNotAllowed(host: "255.255.255.255", port: 8181)) {
            try await beacon.sendOnce()
        }
        await beacon.close()
        await #expect(throws: MessagingError.closed) {
            try await DiscoveryBeacon(announcement: Self.announcement, port: 9).close_thenSend()
        }
    }

    @Test("beacon to listener round trip: sendOnce and run()")
    func roundTrip() async throws {
        let (listener, port) = try await Self.startListener()
        #expect(listener.port == port)
        let beacon = DiscoveryBeacon(announcement: Self.announcement, host: "127.0.0.1", port: port, interval: .milliseconds(50))

        var iterator = listener.announcements().makeAsyncIterator()
        try await beacon.sendOnce()
        #expect(await iterator.next() == Self.announcement)

        let running = Task { try await beacon.run() }
        let next = try await listener.nextAnnouncement(timeout: .seconds(10))
        #expect(next == Self.announcement)
        let third = try await listener.nextAnnouncement(timeout: .seconds(10)) { $0.id == "0815" }
        #expect(third == Self.announcement)
        running.cancel()
        try await running.value
        #expect(listener.receivedAnnouncementCount >= 3)
        #expect(listener.ignoredDatagramCount == 0)

        await listener.close()
        // The stream ends once what it buffered is read.
        while await iterator.next() != nil {}
        await #expect(throws: MessagingError.closed) { try await listener.nextAnnouncement(timeout: .seconds(1)) }
        await beacon.close()
        await #expect(throws: MessagingError.closed) { try await beacon.sendOnce() }
    }

    @Test("garbage datagrams are ignored and the next good one is received")
    func garbageIgnored() async throws {
        let (listener, port) = try await Self.startListener()
        let stream = listener.announcements()
        let vector = Vectors.named("server_ip_beacon").bytes
        var otherAction = ByteBuffer()
        var filePush = ByteBuffer()
        var writer = FrameWriter()
        try writer.write(.action("not_server_ip", kwargs: ["host": "127.0.0.1"]), into: &otherAction)
        try writer.write(.filePush(path: "x", bytes: ByteBuffer(bytes: vector)), into: &filePush)
        try await Self.sendRaw(
            [
                [0xde, 0xad, 0xbe, 0xef],
                Array("hello, world".utf8),
                Array(vector.prefix(vector.count - 5)),
                Array(otherAction.readableBytesView),
                Array(filePush.readableBytesView),
                [0x00, 0x02, 0x7b, 0x7d] + Array("{}".utf8),
                vector,
            ],
            to: port
        )
        var iterator = stream.makeAsyncIterator()
        let received = await iterator.next()
        #expect(received == ServerAnnouncement(host: "192.168.1.10", port: 25000, id: "0815", startTime: 1700000000.123))
        #expect(listener.ignoredDatagramCount == 6)
        #expect(listener.receivedAnnouncementCount == 1)

        // Still listening after all that.
        let beacon = DiscoveryBeacon(announcement: Self.announcement, port: port)
        try await beacon.sendOnce()
        #expect(await iterator.next() == Self.announcement)
        await beacon.close()
        await listener.close()
    }

    @Test("two listeners can bind the same port")
    func sharedPort() async throws {
        let (first, port) = try await Self.startListener()
        let second = DiscoveryListener(host: "127.0.0.1", port: port)
        let address = try await second.start()
        #expect(address.port == port)
        await second.close()
        await first.close()
    }

    @Test("waiting for an announcement times out, and can be cancelled")
    func timeoutAndCancellation() async throws {
        await #expect(throws: MessagingError.discoveryTimedOut(after: .milliseconds(100))) {
            try await DiscoveryListener.nextAnnouncement(host: "127.0.0.1", port: 0, timeout: .milliseconds(100))
        }
        let (listener, _) = try await Self.startListener()
        // Cancelled before it starts waiting or while it waits: either way it ends with .cancelled.
        let waiting = Task { try await listener.nextAnnouncement() }
        waiting.cancel()
        await #expect(throws: MessagingError.cancelled) { try await waiting.value }
        await listener.close()
    }

    /// Runs server A, connects a client with discovery, stops A, optionally waits
    /// until the client's first wait for a beacon has timed out, then starts server
    /// B announcing itself to the client's listener; checks the client's same
    /// Connection links to B.
    static func checkRebind(discoveryTimeout: Duration?, startBAfterTheWaitTimedOut: Bool) async throws {
        let (listener, listenerPort) = try await startListener()
        let serverA = MessagingServer(host: "127.0.0.1", port: 0, registry: makeTestRegistry())
        let runA = Task { try await serverA.run() }
        let portA = try #require(try await serverA.localAddress().port)

        let client = MessagingClient(
            host: "127.0.0.1",
            port: portA,
            registry: makeTestRegistry(),
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50), attemptsBeforeDiscovery: 3)
        )
        let connection = client.connection
        let clientEvents = client.events()
        let runClient = Task { try await client.run(discovery: listener, timeout: discoveryTimeout) }
        try await connection.waitUntilConnected()
        #expect(connection.linkCount == 1)
        #expect(try await connection.request("id", timeout: .seconds(5)) == "swiftcopter")

        serverA.shutdown()
        try await runA.value
        let dropped = await firstEvent(in: clientEvents) { if case .disconnected = $0 { true } else { false } }
        #expect(dropped != nil, "the client did not see the drop")
        if startBAfterTheWaitTimedOut {
            // Three failures start a wait for a beacon; a fourth attempt comes only once it timed out.
            let retried = await firstEvent(in: clientEvents) { if case .connectFailed(_, _, 4, _, _) = $0 { true } else { false } }
            #expect(retried != nil, "the client did not retry after its wait for a beacon")
        }

        let serverB = MessagingServer(host: "127.0.0.1", port: 0, registry: makeTestRegistry())
        let runB = Task {
            try await serverB.run(
                discovery: ServerDiscovery(
                    id: "0002",
                    announcedHost: "127.0.0.1",
                    beacon: .init(host: "127.0.0.1", port: listenerPort, interval: .milliseconds(100))
                )
            )
        }
        let portB = try #require(try await serverB.localAddress().port)
        #expect(portB != portA)
        _ = try await serverB.waitForConnections(1, timeout: .seconds(20))
        try await connection.waitUntilConnected()

        #expect(client.connection === connection)
        #expect(client.server.host == "127.0.0.1")
        #expect(client.server.port == portB)
        #expect(connection.remoteAddress?.port == portB)
        #expect(connection.linkCount == 2)
        #expect(try await connection.request("id", timeout: .seconds(5)) == "swiftcopter")

        client.shutdown()
        try await runClient.value
        serverB.shutdown()
        #expect(try await runB.value == nil)
        await listener.close()
    }

    @Test("a client rebinds to the port a beacon announces after its server moved, keeping its Connection")
    func clientRebind() async throws {
        try await Self.checkRebind(discoveryTimeout: .seconds(30), startBAfterTheWaitTimedOut: false)
    }

    @Test("after the discovery wait times out, a later beacon is still followed")
    func clientRebindAfterTimeout() async throws {
        try await Self.checkRebind(discoveryTimeout: .milliseconds(100), startBAfterTheWaitTimedOut: true)
    }

    @Test("shutdown() ends a client that waits for a beacon without timeout; closing its listener does not")
    func clientShutdownWhileWaiting() async throws {
        let (listener, _) = try await Self.startListener()
        let gone = MessagingServer(host: "127.0.0.1", port: 0, registry: HandlerRegistry())
        let runGone = Task { try await gone.run() }
        let port = try #require(try await gone.localAddress().port)
        gone.shutdown()
        try await runGone.value

        let client = MessagingClient(
            host: "127.0.0.1",
            port: port,
            registry: HandlerRegistry(),
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(20), attemptsBeforeDiscovery: 2)
        )
        let finished = NIOLockedValueBox(false)
        let clientEvents = client.events()
        let running = Task {
            try await client.run(discovery: listener, timeout: nil)
            finished.withLockedValue { $0 = true }
        }
        // Two failures: the client waits for a beacon, without timeout.
        #expect(await firstEvent(in: clientEvents) { if case .connectFailed(_, _, 2, _, _) = $0 { true } else { false } } != nil)
        await listener.close()
        // With its listener closed, it goes on trying (a third attempt), and does not finish.
        #expect(await firstEvent(in: clientEvents) { if case .connectFailed(_, _, 3, _, _) = $0 { true } else { false } } != nil)
        #expect(!finished.withLockedValue { $0 })
        client.shutdown()
        try await running.value
        #expect(client.connection.isClosed)
    }

    @Test("a server shuts down on hearing an earlier server, not a newer one nor itself")
    func olderServerWins() async throws {
        let logs = DiscoveryLogRecorder()
        let (listener, listenerPort) = try await Self.startListener()
        let start = 1700000000.5
        let serverX = MessagingServer(host: "127.0.0.1", port: 0, registry: HandlerRegistry(), logger: logs.logger())
        let finished = NIOLockedValueBox(false)
        let runX = Task {
            defer { finished.withLockedValue { $0 = true } }
            return try await serverX.run(
                discovery: ServerDiscovery(id: "X", startTime: start, announcedHost: "127.0.0.1", beacon: nil, listener: listener)
            )
        }
        _ = try await serverX.localAddress()

        /// Announces until the listener has heard at least 3 of these beacons (however loaded the machine).
        func announce(id: String, startTime: Double) async throws {
            let other = ServerAnnouncement(host: "127.0.0.1", port: 1, id: id, startTime: startTime)
            let beacon = DiscoveryBeacon(announcement: other, host: "127.0.0.1", port: listenerPort, interval: .milliseconds(30))
            let heard = listener.announcements()
            let running = Task { try await beacon.run() }
            #expect(await events(3, in: heard) { $0.id == id && $0.startTime == startTime })
            running.cancel()
            try await running.value
        }
        try await announce(id: "Y", startTime: start + 10)  // newer
        try await announce(id: "X", startTime: start - 10)  // same id
        try await announce(id: "Z", startTime: start)  // same start time
        #expect(listener.receivedAnnouncementCount >= 9)
        #expect(!finished.withLockedValue { $0 })
        #expect(try await serverX.localAddress().port != nil)

        let older = ServerAnnouncement(host: "127.0.0.1", port: 1, id: "Y", startTime: start - 10)
        let beacon = DiscoveryBeacon(announcement: older, host: "127.0.0.1", port: listenerPort, interval: .milliseconds(50))
        let announcing = Task { try await beacon.run() }
        let earlier = try await runX.value
        announcing.cancel()
        try await announcing.value
        #expect(earlier == older)
        let warnings = logs.messages(atLeast: .warning)
        #expect(warnings.contains("another server Y started earlier at 1699999990.5, shutting down"), "\(warnings)")
        await listener.close()
    }
}

extension DiscoveryBeacon {
    /// Closes the beacon, then tries to send.
    fileprivate func close_thenSend() async throws(MessagingError) {
        await close()
        try await sendOnce()
    }
}

/// Collects log messages for checks.
final class DiscoveryLogRecorder: Sendable {
    private let entries = NIOLockedValueBox<[(level: Logger.Level, message: String)]>([])

    func logger() -> Logger {
        Logger(label: "discovery-test") { _ in Handler(recorder: self) }
    }

    func messages(atLeast level: Logger.Level) -> [String] {
        entries.withLockedValue { $0.filter { $0.level >= level }.map(\.message) }
    }

    struct Handler: LogHandler {
        let recorder: DiscoveryLogRecorder
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.entries.withLockedValue { $0.append((event.level, event.message.description)) }
        }
    }
}
