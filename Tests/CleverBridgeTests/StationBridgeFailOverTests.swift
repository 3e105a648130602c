import CleverBridge
import CleverMessaging
import CleverNATS
import CleverTestSupport
import NIOCore
import Testing

/// A bridge whose NATS server goes away: a cluster node, or the only server.
@Suite(.serialized, .needsNATSServer, .timeLimit(.minutes(2)))
struct StationBridgeFailOverTests {
    typealias Kit = BridgeTestKit

    /// Waits for the next `joined` of `drone` (of any drone: `nil`) on `events`.
    static func nextJoined(_ events: NATSSubscription, drone: String? = nil) async throws -> Bool {
        let suffix = drone.map { ".\($0).joined" } ?? ".joined"
        for try await message in events where message.subject.hasSuffix(suffix) { return true }
        return false
    }

    /// Asks `drone` for its telemetry through the bridge until it answers. A node that has not yet
    /// heard of the bridge's subscriptions answers "no responders" at once: each such answer waits
    /// for the bridge's next announcement on `joined` (published after its subscriptions, on the same
    /// connection and route) before asking again.
    static func answered(by drone: String, of station: String, from console: NATSClient, joined: NATSSubscription) async -> Bool {
        let subject = FleetSubjects.request("telemetry", station: station, drone: drone)
        for _ in 0..<20 {
            if let reply = try? await Kit.request(FleetReply.self, from: console, subject: subject, FleetArguments(), timeout: .seconds(10)),
                reply.error == nil
            {
                return true
            }
            let announced = await withDeadline(.seconds(30), else: false) { (try? await nextJoined(joined)) ?? false }
            guard announced else { return false }
        }
        return false
    }

    @Test func stoppingTheStationsClusterNodeLosesNoCommandAfterItsReconnect() async throws {
        let nodes = try await NATSServerProcess.cluster(of: 3)
        defer { for node in nodes { node.stop() } }

        // The station knows every node, node 0 first; the console is on node 2.
        try await Kit.withStations(["east"], drones: 10, nats: nodes.map(\.url)) { stations in
            let east = stations[0]
            let console = try Kit.natsClient([nodes[2].url], name: "console")
            try await console.connect()
            defer { Task { await console.close() } }
            let events = try await console.subscribe(to: FleetSubjects.event(.joined, station: "east", drone: "*"))
            try await console.flush()

            nodes[0].stop()
            #expect(await east.waitForStatistics { $0.reconnects == 1 })
            #expect(east.bridge.statistics.disconnects == 1)
            #expect(east.bridge.statistics.reconnects == 1)
            // The bridge announces its drones again once reconnected.
            #expect(try await Self.nextJoined(events, drone: "d009"))
            // Its subscriptions are replayed in the order they were made, actions first, and the
            // route between the nodes keeps that order: once a request through the bridge is
            // answered from the console's node, the action subscription has reached it too.
            #expect(await Self.answered(by: "d009", of: "east", from: console, joined: events))

            // Every command issued from now on arrives: 20 actions to all, and a request to each drone.
            for _ in 0..<20 {
                try await console.publish(Kit.encode(FleetArguments()), to: FleetSubjects.action("go", station: "east", drone: "all"))
            }
            #expect(await east.actions.wait(for: "go", count: 200, timeout: .seconds(30)) == 200)
            for id in east.ids {
                let reply = try await Kit.request(
                    FleetReply.self, from: console, subject: FleetSubjects.request("telemetry", station: "east", drone: id), FleetArguments())
                #expect(reply.error == nil)
            }
        }
    }

    @Test func withoutNATSTheStationKeepsServingItsDronesAndTheBridgeComesBack() async throws {
        var server = try await NATSServerProcess()
        let port = server.port
        defer { server.stop() }
        try await Kit.withStations(["alone"], drones: 10, nats: [server.url]) { stations in
            let alone = stations[0]
            server.stop()
            #expect(await alone.waitForStatistics { $0.disconnects == 1 })
            #expect(alone.bridge.statistics.disconnects == 1)

            // The station still flies its drones: a local send and a local request work.
            let sent = try await alone.station.send("go", to: alone.ids)
            #expect(sent.succeeded.count == 10)
            #expect(await alone.actions.wait(for: "go", count: 10) == 10)
            let replies = await alone.station.requestAll("telemetry", as: JSONValue.self)
            #expect(replies.succeeded.count == 10)

            // The server returns on the same port: the bridge reconnects and serves again.
            server = try await NATSServerProcess(port: port)
            #expect(await alone.waitForStatistics { $0.reconnects == 1 })
            #expect(alone.bridge.statistics.reconnects == 1)
            let console = try Kit.natsClient([server.url], name: "console")
            try await console.connect()
            defer { Task { await console.close() } }
            let status = try await Kit.request(
                FleetStationStatus.self, from: console, subject: FleetSubjects.status(station: "alone"), FleetArguments())
            #expect(status.drones.filter(\.connected).count == 10)
            let reply = try await Kit.request(
                FleetReply.self, from: console, subject: FleetSubjects.request("telemetry", station: "alone", drone: "d003"), FleetArguments())
            #expect(reply.value?["id"] == "d003")
        }
    }
}
