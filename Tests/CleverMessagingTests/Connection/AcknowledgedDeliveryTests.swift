import CleverTestSupport
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import CleverMessaging

/// Acknowledged delivery over loopback: a client and a server of this library
/// lose their link with actions in flight both ways, and after the reconnect
/// every action ran exactly once, in order, and every receipt completed as
/// delivered; toward a reference peer nothing changes on the wire.
@Suite("Acknowledged delivery", .timeLimit(.minutes(1)))
struct AcknowledgedDeliveryTests {
    /// The `n` of every `step` action a side ran, in the order it ran them.
    static func recordingSteps(into steps: Watched<[Int]>) -> HandlerRegistry {
        let registry = makeTestRegistry()
        registry.onAction("step") { _, _, kwargs in
            if let n = kwargs["n"]?.integerValue { steps.update { $0.append(n) } }
        }
        return registry
    }

    /// A server and a client of this library; the client's first link offers delivery at once.
    static func withPair(
        server serverConfiguration: ConnectionConfiguration = .init(),
        client clientConfiguration: ConnectionConfiguration = .init(),
        serverSteps: Watched<[Int]>,
        clientSteps: Watched<[Int]>,
        _ body: (MessagingServer, MessagingClient) async throws -> Void
    ) async throws {
        // The links drop only where a test drops them: a loaded machine's late pong or
        // slow handshake must not cut one on its own.
        var serverConfiguration = serverConfiguration
        var clientConfiguration = clientConfiguration
        serverConfiguration.pingTimeout = .seconds(30)
        serverConfiguration.handshakeTimeout = .seconds(30)
        clientConfiguration.pingTimeout = .seconds(30)
        clientConfiguration.handshakeTimeout = .seconds(30)
        // The server's answer to the delivery hello may come late, not never.
        clientConfiguration.delivery.helloWait = .seconds(4)
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: recordingSteps(into: serverSteps), configuration: serverConfiguration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.localAddress().port!
            clientConfiguration.delivery.peerIsOfThisLibrary = true
            let client = MessagingClient(
                host: "127.0.0.1", port: port, registry: recordingSteps(into: clientSteps),
                configuration: clientConfiguration, reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(20))
            )
            group.addTask { try await client.run() }
            do {
                try await client.connection.waitUntilConnected()
                try await body(server, client)
            } catch {
                client.shutdown()
                server.shutdown()
                throw error
            }
            client.shutdown()
            server.shutdown()
            try await group.waitForAll()
        }
    }

    /// The server-side connection of the client's current link. The client's
    /// link opens only once the server answered its delivery hello, so by then
    /// the server's connection has the session attached.
    static func serverSide(of server: MessagingServer, after previous: Connection? = nil) throws -> Connection {
        try #require(server.connections.first { $0 !== previous && $0.deliversAcknowledged })
    }

    @Test("the link drops with actions in flight both ways: each runs once, in order, and every receipt says delivered")
    func dropMidStream() async throws {
        let count = 500
        let serverSteps = Watched<[Int]>([])
        let clientSteps = Watched<[Int]>([])
        try await Self.withPair(serverSteps: serverSteps, clientSteps: clientSteps) { server, client in
            let connection = client.connection
            #expect(connection.deliversAcknowledged)
            let firstServerSide = try Self.serverSide(of: server)
            let events = client.events()
            var upward: [SendReceipt] = []
            var downward: [SendReceipt] = []
            for n in 1...(count / 2) {
                if n <= count * 2 / 5 { upward.append(try connection.enqueueMessage("step", kwargs: ["n": .integer(n)])) }
                downward.append(try firstServerSide.enqueueMessage("step", kwargs: ["n": .integer(n)]))
            }
            // The rest of the first half is queued on the client's event loop, and the link
            // dropped in the same turn, before it can be written: those go on the next link.
            let lastOfFirstLink = try await connection.eventLoop.submit {
                var receipts: [SendReceipt] = []
                for n in (count * 2 / 5 + 1)...(count / 2) {
                    receipts.append(try connection.enqueueMessage("step", kwargs: ["n": .integer(n)]))
                }
                connection.dropLink()
                return receipts
            }.get()
            upward += lastOfFirstLink
            #expect(upward.allSatisfy { $0.guarantee == .delivered })
            #expect(downward.allSatisfy { $0.guarantee == .delivered })
            // The second half goes on the next link (the client's own connection keeps its session).
            for await event in events {
                if case .disconnected = event { break }
            }
            try await connection.waitUntilConnected()
            let secondServerSide = try Self.serverSide(of: server, after: firstServerSide)
            for n in (count / 2 + 1)...count {
                upward.append(try connection.enqueueMessage("step", kwargs: ["n": .integer(n)]))
                downward.append(try secondServerSide.enqueueMessage("step", kwargs: ["n": .integer(n)]))
            }
            for receipt in upward { #expect(try await receipt.delivered() == .delivered) }
            for receipt in downward { #expect(try await receipt.delivered() == .delivered) }
            #expect(await serverSteps.wait { $0.count >= count })
            #expect(await clientSteps.wait { $0.count >= count })
            #expect(serverSteps.value == Array(1...count), "client to server: each once, in order")
            #expect(clientSteps.value == Array(1...count), "server to client: each once, in order")

            let up = connection.deliveryStatistics
            let down = secondServerSide.deliveryStatistics
            let upTwice = serverSteps.value.count - Set(serverSteps.value).count
            let downTwice = clientSteps.value.count - Set(clientSteps.value).count
            print("acknowledged delivery, link dropped after \(count / 2) of \(count) actions each way:")
            print("  client->server: sent \(up.sent), delivered \(up.delivered), resent \(up.resent), run twice \(upTwice), duplicates dropped \(down.duplicatesDropped)")
            print("  server->client: sent \(down.sent), delivered \(down.delivered), resent \(down.resent), run twice \(downTwice), duplicates dropped \(up.duplicatesDropped)")
            #expect(up.sent == count && up.delivered == count)
            #expect(down.sent == count && down.delivered == count)
            #expect(upTwice == 0 && downTwice == 0)
            #expect(connection.linkCount == 2)
            #expect(up.resent >= count / 2 - count * 2 / 5, "what was queued when the link dropped went again")
        }
    }

    @Test("a full resend window refuses the next action with resend_window_full")
    func windowFull() async throws {
        var client = ConnectionConfiguration()
        client.delivery.maximumUnacknowledged = 3
        var server = ConnectionConfiguration()
        // The server acknowledges late: the window stays full while the test looks.
        server.delivery.ackInterval = .seconds(30)
        let steps = Watched<[Int]>([])
        try await Self.withPair(server: server, client: client, serverSteps: steps, clientSteps: Watched([])) { _, client in
            for n in 1...3 { try client.connection.enqueueMessage("step", kwargs: ["n": .integer(n)]) }
            do throws(MessagingError) {
                try client.connection.enqueueMessage("step", kwargs: ["n": 4])
                Issue.record("expected resend_window_full")
            } catch {
                #expect(error.code == .resendWindowFull)
                #expect(error.code.rawValue == "resend_window_full")
                guard case .resendWindowFull(let waiting, _) = error else { Issue.record("got \(error)"); return }
                #expect(waiting == 3)
            }
            #expect(await steps.wait { $0 == [1, 2, 3] })
        }
    }

    @Test("with delivery off on the server, the client's receipts say written")
    func serverWithoutDelivery() async throws {
        var server = ConnectionConfiguration()
        server.delivery = .off
        let steps = Watched<[Int]>([])
        try await Self.withPair(server: server, serverSteps: steps, clientSteps: Watched([])) { _, client in
            #expect(!client.connection.deliversAcknowledged)
            let receipt = try await client.connection.send("step", kwargs: ["n": 1])
            #expect(receipt.guarantee == .written)
            #expect(try await receipt.delivered() == .written)
            #expect(await steps.wait { $0 == [1] })
        }
    }

    @Test("an action that arrives again under the same number runs once")
    func duplicateDropped() async throws {
        let steps = Watched<[Int]>([])
        try await Self.withPair(serverSteps: steps, clientSteps: Watched([])) { server, client in
            let serverSide = try Self.serverSide(of: server)
            for (sequence, n) in [(1, 1), (1, 1), (2, 2), (1, 1), (3, 3)] {
                var frame = Frame.action("step", kwargs: ["n": .integer(n)])
                frame.header.extra["x-clever-seq"] = .integer(sequence)
                try client.connection.enqueue(frame)
            }
            #expect(await steps.wait { $0.count >= 3 })
            try await client.connection.flushed()
            // A request answered after the frames shows that all of them were handled.
            #expect(try await client.connection.request("id") == "swiftcopter")
            #expect(steps.value == [1, 2, 3])
            #expect(serverSide.deliveryStatistics.duplicatesDropped == 2)
            #expect(serverSide.deliveryStatistics.received == 3)
        }
    }

    @Test("a sequence number that is not a non-negative integer counts for nothing: such actions run each time")
    func untypedNumbersIgnored() async throws {
        let steps = Watched<[Int]>([])
        try await Self.withPair(serverSteps: steps, clientSteps: Watched([])) { server, client in
            let serverSide = try Self.serverSide(of: server)
            for (sequence, n) in [("1", 1), ("1", 2), ("-1", 3), ("-1", 4), ("1.5", 5), ("0", 6), ("0", 7)] as [(String, Int)] {
                var frame = Frame.action("step", kwargs: ["n": .integer(n)])
                frame.header.extra["x-clever-seq"] = try JSONParser.parse(sequence == "1" ? "\"1\"" : sequence)
                try client.connection.enqueue(frame)
            }
            #expect(await steps.wait { $0.count >= 7 })
            #expect(steps.value == [1, 2, 3, 4, 5, 6, 7])
            #expect(serverSide.deliveryStatistics.duplicatesDropped == 0)
            #expect(serverSide.deliveryStatistics.received == 0)
        }
    }
}
