import CleverBridge
import CleverMessaging
import CleverNATS
import Foundation
import Testing

/// The fleet view at the scale (two stations of 100 drones behind one
/// server) and across a 3-node NATS cluster losing the view's node.
@Suite("Fleet view: scale and fail-over", .serialized, .timeLimit(.minutes(2)))
struct FleetScaleTests {
    @Test func twoHundredDronesOnTwoStations() async throws {
        let server = try await FleetTestNATSServer()
        defer { server.stop() }
        let stations = [
            try await FakeStation(name: "north", drones: (1...100).map { "copter-\($0)" }, url: server.url),
            try await FakeStation(name: "south", drones: (1...100).map { "copter-\($0)" }, skew: 0.75, url: server.url),
        ]
        let view = try await FleetViewTests.view([server.url]) { $0.expectedStations = 2 }
        try await withFakeStations(stations) {
            #expect(try await view.drones().count == 200)
            #expect(try await view.send("takeoff", to: .all).count == 200)
            try await waitUntilFleet { stations.allSatisfy { $0.actionsByDrone.count == 100 } }
            let replies = try await view.request("telemetry", from: .all)
            #expect(replies.count == 200)
            #expect(replies.allSatisfy { (try? $0.result.get())?["mode"] == "OFFBOARD" })
            let outcomes = try await view.start(at: Date().timeIntervalSince1970 + 3, action: "start")
            #expect(outcomes.reduce(0) { $0 + ((try? $1.result.get())?.succeeded.count ?? 0) } == 200)
        }
        await view.client.close()
    }

    @Test func theViewsNodeGoesAwayAndCommandsAfterTheReconnectArrive() async throws {
        var clientPorts: [Int] = []
        var routePorts: [Int] = []
        for _ in 0..<3 {
            clientPorts.append(try await FleetTestNATSServer.freePort())
            routePorts.append(try await FleetTestNATSServer.freePort())
        }
        var nodes: [FleetTestNATSServer] = []
        for index in 0..<3 {
            let routes = routePorts.indices.filter { $0 != index }.map { "nats://127.0.0.1:\(routePorts[$0])" }
            nodes.append(
                try await FleetTestNATSServer(
                    port: clientPorts[index],
                    extra: [
                        "--cluster_name", "clever", "--cluster", "nats://127.0.0.1:\(routePorts[index])",
                        "--routes", routes.joined(separator: ","),
                    ]))
        }
        defer { for node in nodes { node.stop() } }
        try await nodes[0].waitForOutput("Route connection created", count: 2)
        let north = try await FakeStation(name: "north", drones: ["a", "b", "c"], url: nodes[1].url)
        let south = try await FakeStation(name: "south", drones: ["a", "b", "c"], url: nodes[2].url)
        let view = try await FleetViewTests.view(nodes.map(\.url)) { $0.expectedStations = 2 }
        var events = view.events().makeAsyncIterator()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await view.run() }
            group.addTask { try await north.serve() }
            group.addTask { try await south.serve() }
            try await waitUntilFleet { (try? await view.drones().count) == 6 }

            nodes[0].stop()
            var gap: Duration?
            while let event = await events.next() {
                if case .reconnected(let length) = event {
                    gap = length
                    break
                }
            }
            #expect(gap != nil)
            // Commands issued after the reconnect reach every station.
            try await view.client.flush()
            #expect(try await view.send("land", to: .all).count == 6)
            try await waitUntilFleet { north.actions.count == 1 && south.actions.count == 1 }
            let replies = try await view.request("telemetry", from: .all)
            #expect(replies.count == 6 && replies.allSatisfy { (try? $0.result.get()) != nil })
            group.cancelAll()
        }
        await view.client.close()
        await north.client.close()
        await south.client.close()
    }
}
