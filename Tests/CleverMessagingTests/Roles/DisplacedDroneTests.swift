import CleverMessaging
import CleverTestSupport
import Testing

/// Drones whose links the station keeps closing because another drone displaces
/// them back off instead of reconnecting in a loop (real loopback sockets).
@Suite("Client: displaced drones back off", .timeLimit(.minutes(1)))
struct DisplacedDroneTests {
    /// When the links of `clients` came up, in order (each link wakes the test's waits).
    static func linkTimes(_ clients: [MessagingClient]) -> Watched<[ContinuousClock.Instant]> {
        let times = Watched<[ContinuousClock.Instant]>([])
        for client in clients {
            client.observeEvents { event in
                if case .connected = event { times.update { $0.append(.now) } }
            }
        }
        return times
    }

    @Test("two drones of one host answering one id: each displaces the other, and their reconnects space out")
    func sameHostDisplacement() async throws {
        try await GroundStationTests.withStation { station, port in
            let policy = ReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .seconds(2))
            let clients = (0..<2).map { _ in
                let registry = HandlerRegistry()
                registry.onRequest("id") { _, _, _ in "copter-twin" }
                registry.onRequest("clover_dir") { _, _, _ in "/home/pi" }
                return MessagingClient(host: "127.0.0.1", port: port, registry: registry, reconnectPolicy: policy)
            }
            let times = Self.linkTimes(clients)
            let links = { times.value.sorted() }
            let runs = clients.map { client in Task { try await client.run() } }
            // The test looks at how links follow each other on the wall clock.
            // Wait for 8 links (the drones displaced each other 6 times), however slow the machine.
            await times.wait(timeout: .seconds(30)) { $0.count >= 8 }
            for client in clients { client.shutdown() }
            for run in runs { try await run.value }
            let all = links()
            try #require(all.count >= 8, "the drones kept displacing each other: \(all.count) links")
            // Without the backoff each displaced drone is back within 50 ms (some 20 links a
            // second); with it each waits 0, 100, 200, 400, 800... ms after its displacements.
            // 8 links take about 50 + 100 + 100 + 200 + 200 ms (without the backoff, some 300 ms at most).
            #expect(all[7] - all[0] >= .milliseconds(450), "8 links in \(all[7] - all[0])")
            let gaps = zip(all.dropFirst(), all).map { $0 - $1 }
            #expect(gaps[6] >= .milliseconds(150), "the 8th link waited: \(gaps)")
        }
    }

    @Test("a drone refused for an id connected from another address tries again less and less often")
    func refusedFromAnotherAddress() async throws {
        try await GroundStationTests.withStation { station, port in
            let holder = GroundStationTests.drone("copter-held", port: port, from: "127.0.0.1")
            let holding = Task { try await holder.run() }
            try await station.waitForDrones(1, timeout: .seconds(30))
            let registry = HandlerRegistry()
            registry.onRequest("id") { _, _, _ in "copter-held" }
            let newcomer = MessagingClient(
                host: "127.0.0.1", port: port, registry: registry,
                reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .seconds(2)), localHost: "127.0.0.2"
            )
            let times = Self.linkTimes([newcomer])
            let refused = Task { try await newcomer.run() }
            // Wait for 5 attempts however slow the machine.
            await times.wait(timeout: .seconds(30)) { $0.count >= 5 }
            newcomer.shutdown()
            try await refused.value
            let links = times.value
            try #require(links.count >= 5, "\(links.count) attempts")
            // A constant 50 ms spacing takes some 200 ms for 5 attempts; doubling 50 + 100 + 200 + 400 ms.
            #expect(links[4] - links[0] >= .milliseconds(500), "5 attempts in \(links[4] - links[0])")
            #expect(station.connectedIDs == ["copter-held"])
            #expect(station.drones.first?.address.hasPrefix("127.0.0.1:") == true)
            holder.shutdown()
            try await holding.value
        }
    }
}
