import CleverMessaging
import CleverTestSupport
import NIOCore
import Testing

/// The roles hold no reference to themselves: once shut down and let go, they are freed.
@Suite("Roles: deallocation after shutdown", .timeLimit(.minutes(1)))
struct DeallocationTests {
    /// Weak references to the objects of one run.
    final class Watched: @unchecked Sendable {
        weak var station: GroundStation?
        weak var server: MessagingServer?
        weak var client: MessagingClient?
        weak var connection: Connection?
    }

    @Test("a ground station, its server and a drone's client are freed after a run with a drone")
    func stationServerAndClient() async throws {
        let watched = Watched()
        try await Self.runOnce(watched)
        #expect(watched.station == nil, "GroundStation leaked")
        #expect(watched.server == nil, "MessagingServer leaked")
        #expect(watched.client == nil, "MessagingClient leaked")
    }

    @Test("a server that never ran is freed")
    func unusedServer() {
        weak var server: MessagingServer?
        weak var station: GroundStation?
        do {
            let made = MessagingServer(port: 0, registry: HandlerRegistry())
            let madeStation = GroundStation(port: 0)
            server = made
            station = madeStation
        }
        #expect(server == nil)
        #expect(station == nil)
    }

    static func runOnce(_ watched: Watched) async throws {
        let station = GroundStation(host: "127.0.0.1", port: 0)
        watched.station = station
        watched.server = station.server
        let events = station.events()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try await station.server.localAddress().port!
            let client = GroundStationTests.drone("leak-check", port: port)
            watched.client = client
            group.addTask { try await client.run() }
            try await station.waitForDrones(1, timeout: .seconds(30))
            #expect(try await station.request("id", from: "leak-check", as: String.self) == "leak-check")
            client.shutdown()
            station.shutdown()
            try await group.waitForAll()
        }
        // The stream of a station that stopped has ended.
        var seen = 0
        for await _ in events { seen += 1 }
        #expect(seen >= 1)
    }
}
