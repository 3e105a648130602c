import CleverBridge
import CleverMessaging
import CleverNATS
import NIOCore
import Testing

/// A bridge whose NATS server goes away: a cluster node, or the only server.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct StationBridgeFailOverTests {
    typealias Kit = BridgeTestKit

    /// Waits for the next `joined` of `drone` on `events`.
    static func nextJoined(_ events: NATSSubscription, drone: String) async throws -> Bool {
        for try await message in events where message.subject.hasSuffix(".\(drone).joined") { return true }
        return false
    }

    /// Asks `drone` for its telemetry through the bridge until it answers (a node that has not
    /// yet heard of the bridge's subscription answers "no responders" at once) or `timeout` passes.
    static func answered(by drone: String, of station: String, from console: NATSClient, within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let subject = FleetSubjects.request("telemetry", station: station, drone: drone)
            if let reply = try? await Kit.request(FleetReply.self, from: console, subject: subject, FleetArguments(), timeout: .seconds(2)),
                reply.error == nil
            {
                return true
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func stoppingTheStationsClusterNodeLosesNoCommandAfterItsReconnect() async throws {
        var clientPorts: [Int] = []
        var routePorts: [Int] = []
        for _ in 0..<3 {
            clientPorts.append(try await NATSServerProcess.freePort())
            routePorts.append(try await NATSServerProcess.freePort())
        }
        var nodes: [NATSServerProcess] = []
        for index in 0..<3 {
            let routes = routePorts.indices.filter { $0 != index }.map { "nats://127.0.0.1:\(routePorts[$0])" }
            nodes.append(try await NATSServerProcess(port: clientPorts[index], extra: [
                "--cluster_name", "clever", "--cluster", "nats://127.0.0.1:\(routePorts[index])",
                "--routes", routes.joined(separator: ","),
            ]))
        }
        defer { for node in nodes { node.stop() } }
        try await nodes[0].waitForOutput("Route connection created", count: 2)
        try await nodes[2].waitForOutput("Route connection created", count: 2)

        // The station knows every node, node 0 first; the console is on node 2.
        try await Kit.withStations(["east"], drones: 10, nats: nodes.map(\.url)) { stations in
            let east = stations[0]
            let console = try Kit.natsClient([nodes[2].url], name: "console")
            try await console.connect()
            defer { Task { await console.close() } }
            let events = try await console.subscribe(to: FleetSubjects.event(.joined, station: "east", drone: "*"))
            try await console.flush()

            nodes[0].stop()
            await Kit.eventually(timeout: .seconds(30)) { east.bridge.statistics.reconnects == 1 }
            #expect(east.bridge.statistics.disconnects == 1)
            #expect(east.bridge.statistics.reconnects == 1)
            // The bridge announces its drones again once reconnected.
            #expect(try await Self.nextJoined(events, drone: "d009"))
            // Its subscriptions are replayed in the order they were made, actions first, and the
            // route between the nodes keeps that order: once a request through the bridge is
            // answered from the console's node, the action subscription has reached it too.
            #expect(await Self.answered(by: "d009", of: "east", from: console, within: .seconds(30)))

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
            await Kit.eventually { alone.bridge.statistics.disconnects == 1 }
            #expect(alone.bridge.statistics.disconnects == 1)

            // The station still flies its drones: a local send and a local request work.
            let sent = try await alone.station.send("go", to: alone.ids)
            #expect(sent.succeeded.count == 10)
            #expect(await alone.actions.wait(for: "go", count: 10) == 10)
            let replies = await alone.station.requestAll("telemetry", as: JSONValue.self)
            #expect(replies.succeeded.count == 10)

            // The server returns on the same port: the bridge reconnects and serves again.
            server = try await NATSServerProcess(port: port)
            await Kit.eventually { alone.bridge.statistics.reconnects == 1 }
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
