import CleverBridge
import CleverMessaging
import CleverNATS
import CleverTestSupport
import Foundation
import Testing

/// The fleet view at the scale (two stations of 100 drones behind one
/// server) and across a 3-node NATS cluster losing the view's node.
@Suite("Fleet view: scale and fail-over", .serialized, .needsNATSServer, .timeLimit(.minutes(2)))
struct FleetScaleTests {
    @Test func twoHundredDronesOnTwoStations() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        let stations = [
            try await FakeStation(name: "north", drones: (1...100).map { "copter-\($0)" }, url: server.url),
            try await FakeStation(name: "south", drones: (1...100).map { "copter-\($0)" }, skew: 0.75, url: server.url),
        ]
        // 200 requests answered through NATS: a loaded parallel run can take seconds over them.
        let view = try await FleetViewTests.view([server.url]) {
            $0.expectedStations = 2
            $0.requestTimeout = .seconds(20)
        }
        try await withFakeStations(stations) {
            #expect(try await view.drones().count == 200)
            #expect(try await view.send("takeoff", to: .all).count == 200)
            for station in stations { #expect(await station.wait { $0.actionsByDrone.count == 100 }) }
            let replies = try await view.request("telemetry", from: .all)
            #expect(replies.count == 200)
            #expect(replies.allSatisfy { (try? $0.result.get())?["mode"] == "OFFBOARD" })
            let outcomes = try await view.start(at: Date().timeIntervalSince1970 + 3, action: "start")
            #expect(outcomes.reduce(0) { $0 + ((try? $1.result.get())?.succeeded.count ?? 0) } == 200)
        }
        await view.client.close()
    }

    @Test func theViewsNodeGoesAwayAndCommandsAfterTheReconnectArrive() async throws {
        let nodes = try await NATSServerProcess.cluster(of: 3)
        defer { for node in nodes { node.stop() } }
        let north = try await FakeStation(name: "north", drones: ["a", "b", "c"], url: nodes[1].url)
        let south = try await FakeStation(name: "south", drones: ["a", "b", "c"], url: nodes[2].url)
        let view = try await FleetViewTests.view(nodes.map(\.url)) { $0.expectedStations = 2 }
        var events = view.events().makeAsyncIterator()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await view.run() }
            group.addTask { try await north.serve() }
            group.addTask { try await south.serve() }
            // The stations' subscriptions reach the view's node over the cluster's routes, which
            // tell nobody when: discovery is asked again (each waits up to its window) until both answer.
            var found = 0
            for _ in 0..<20 where found != 6 { found = (try? await view.drones().count) ?? 0 }
            try #require(found == 6)

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
            #expect(await north.wait { $0.actions.count == 1 })
            #expect(await south.wait { $0.actions.count == 1 })
            let replies = try await view.request("telemetry", from: .all)
            #expect(replies.count == 6 && replies.allSatisfy { (try? $0.result.get()) != nil })
            group.cancelAll()
        }
        await view.client.close()
        await north.client.close()
        await south.client.close()
    }
}
