import CleverMessaging
import CleverTestSupport
import Logging
import NIOCore
import NIOPosix
import Testing

/// Signed beacons over real UDP and TCP on 127.0.0.1 only.
@Suite("Discovery: signed beacons on loopback", .timeLimit(.minutes(1)))
struct DiscoverySigningNetworkTests {
    static let announcement = ServerAnnouncement(host: "127.0.0.1", port: 25000, id: "0815", startTime: 1700000000.123)
    static let key = try! DiscoveryKey(text: "loopback key")
    static let otherKey = try! DiscoveryKey(text: "another key")

    @Test("a listener with a key takes signed beacons and ignores unsigned, wrongly signed, expired and future ones, warning once per sender and reason")
    func signedOnly() async throws {
        let logs = DiscoveryLogRecorder()
        let listener = DiscoveryListener(configuration: .init(host: "127.0.0.1", port: 0, key: Self.key), logger: logs.logger())
        let port = try #require(try await listener.start().port)
        let stream = listener.announcements()
        let now = ServerDiscovery.now()
        let unsigned = Vectors.named("server_ip_beacon").bytes
        let wrong = Array(try BeaconVerifier.signedDatagram(Self.announcement, key: Self.otherKey, at: now).readableBytesView)
        let expired = Array(try BeaconVerifier.signedDatagram(Self.announcement, key: Self.key, at: now - 60).readableBytesView)
        let future = Array(try BeaconVerifier.signedDatagram(Self.announcement, key: Self.key, at: now + 60).readableBytesView)
        // Each twice, from one socket: the second of each is not logged at warning level.
        try await DiscoveryNetworkTests.sendRaw([unsigned, unsigned, wrong, wrong, expired, expired, future, future], to: port)

        let beacon = DiscoveryBeacon(announcement: Self.announcement, configuration: .init(host: "127.0.0.1", port: port, key: Self.key))
        try await beacon.sendOnce()
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next() == Self.announcement)
        #expect(listener.receivedAnnouncementCount == 1)
        #expect(listener.ignoredDatagramCount == 8)
        #expect(listener.rejectedBeaconCounts == [.unsigned: 2, .badSignature: 2, .expired: 2, .fromTheFuture: 2])
        let warnings = logs.messages(atLeast: .warning)
        #expect(warnings.count == 4, "\(warnings)")
        for reason in ["unsigned", "bad signature", "expired", "signed in the future"] {
            #expect(warnings.contains("ignoring \(reason) discovery beacon from 127.0.0.1 (reported once per sender and reason)"), "\(warnings)")
        }
        await beacon.close()
        await listener.close()
    }

    @Test("a server's signed beacon is followed by a client whose listener has the key, and one signed with another key is not")
    func clientFollowsOnlySignedBeacons() async throws {
        let listener = DiscoveryListener(configuration: .init(host: "127.0.0.1", port: 0, key: Self.key))
        let listenerPort = try #require(try await listener.start().port)

        // Where the client first looks: a port nobody listens on any more.
        let gone = MessagingServer(host: "127.0.0.1", port: 0, registry: HandlerRegistry())
        let runGone = Task { try await gone.run() }
        let deadPort = try #require(try await gone.localAddress().port)
        gone.shutdown()
        try await runGone.value
        // A decoy a wrongly signed beacon points at.
        let decoy = MessagingServer(host: "127.0.0.1", port: 0, registry: makeTestRegistry())
        let runDecoy = Task { try await decoy.run() }
        let decoyPort = try #require(try await decoy.localAddress().port)

        let client = MessagingClient(
            host: "127.0.0.1",
            port: deadPort,
            registry: makeTestRegistry(),
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(20), attemptsBeforeDiscovery: 2)
        )
        let clientEvents = client.events()
        let runClient = Task { try await client.run(discovery: listener, timeout: nil) }
        // Two failures: the client now waits for a beacon.
        #expect(await firstEvent(in: clientEvents) { if case .connectFailed(_, _, 2, _, _) = $0 { true } else { false } } != nil)

        let decoyAnnouncement = ServerAnnouncement(host: "127.0.0.1", port: decoyPort, id: "decoy", startTime: 1)
        let forged = try BeaconVerifier.signedDatagram(decoyAnnouncement, key: Self.otherKey, at: ServerDiscovery.now())
        try await DiscoveryNetworkTests.sendRaw([Array(forged.readableBytesView)], to: listenerPort)

        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: makeTestRegistry())
        let runServer = Task {
            try await server.run(
                discovery: ServerDiscovery(
                    id: "0002",
                    announcedHost: "127.0.0.1",
                    beacon: .init(host: "127.0.0.1", port: listenerPort, interval: .milliseconds(100), key: Self.key)
                )
            )
        }
        let serverPort = try #require(try await server.localAddress().port)
        _ = try await server.waitForConnections(1, timeout: .seconds(20))
        try await client.connection.waitUntilConnected()
        #expect(client.server.port == serverPort)
        #expect(client.connection.remoteAddress?.port == serverPort)
        #expect(listener.rejectedBeaconCounts[.badSignature] == 1)

        client.shutdown()
        try await runClient.value
        server.shutdown()
        #expect(try await runServer.value == nil)
        decoy.shutdown()
        try await runDecoy.value
        await listener.close()
    }
}
