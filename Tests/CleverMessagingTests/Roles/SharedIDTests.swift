import CleverMessaging
import Testing

/// Two drones of one host that answer one id: the station lets each replace the
/// other (one host is one drone reconnecting), and says once that they flap.
@Suite("Ground station: two drones sharing an id", .timeLimit(.minutes(2)))
struct SharedIDTests {
    @Test("two clients answering one id replace each other; the station warns once, naming both links")
    func warnsOnceAboutAFlappingID() async throws {
        let log = LogMessages()
        let station = GroundStation(host: "127.0.0.1", port: 0, logger: log.logger("clever.station"))
        let events = station.events()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try #require(try await station.server.localAddress().port)
            let clients = [GroundStationTests.drone("copter-1", port: port), GroundStationTests.drone("copter-1", port: port)]
            for client in clients { group.addTask { try await client.run() } }
            // The warning, once the links replaced each other past its threshold (slow on a loaded parallel run);
            // then a few more replacements, which must not warn again.
            let warnings = { log.messages.value.filter { $0.contains("copter-1 connected from two links") } }
            #expect(await log.messages.wait(timeout: .seconds(60)) { $0.contains { $0.contains("two drones may share this id") } })
            var reconnects = 0
            for await event in events {
                if case .reconnected = event { reconnects += 1 }
                if reconnects >= 4 { break }
            }
            #expect(warnings().count == 1, "\(warnings())")
            let warning = try #require(warnings().first)
            // Both addresses, host and port: "(127.0.0.1:A replaced 127.0.0.1:B)".
            #expect(warning.matches(of: /127\.0\.0\.1:\d+/).count == 2, "\(warning)")
            for client in clients { client.shutdown() }
            station.shutdown()
            try await group.waitForAll()
        }
    }
}
