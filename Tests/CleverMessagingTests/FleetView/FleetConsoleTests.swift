import CleverBridge
import CleverMessaging
import CleverTestSupport
import Foundation
import Testing

/// `clever-msg fleet` driven through a pipe, against fake stations behind a real `nats-server`.
@Suite("CLI: fleet console", .serialized, .needsNATSServer, .timeLimit(.minutes(2)))
struct FleetConsoleTests {
    @Test("fleet + 2 stations: drones, send, request, clock, start-at, watch, events, a NATS gap, quit")
    func console() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        var server = try await NATSServerProcess()
        let port = server.port
        defer { server.stop() }
        let north = try await FakeStation(name: "north", drones: ["copter-1", "copter-2", "copter-10"], skew: 1.5, url: server.url)
        let south = try await FakeStation(name: "south", drones: ["copter-1", "copter-2", "copter-3"], url: server.url)
        let fleet = try PythonPeer(
            executable: binary, arguments: ["fleet", "--nats", server.url, "--json", "--window", "5", "--stations", "2", "--timeout", "5"])
        defer { fleet.terminate() }
        try await fleet.waitForLines { $0["fleet"] != nil }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for station in [north, south] { group.addTask { try await station.serve() } }
            try await Self.commands(fleet, north: north, south: south)
            group.cancelAll()
        }

        // The NATS server goes away and comes back: the console says so, with the gap the
        // view measured (FleetViewTests checks that measure on a clock of its own): more
        // than nothing, and no more than the test saw pass from the stop to the line.
        let stopped = ContinuousClock.now
        server.stop()
        try await fleet.waitForLines { $0["event"] == "nats_disconnected" }
        server = try await NATSServerProcess(port: port)
        let back = try await fleet.waitForLines { $0["event"] == "nats_reconnected" }[0]
        let window = ContinuousClock.now - stopped
        let gap = back["gap_ms"]?.doubleValue ?? -1
        #expect(gap > 0 && gap <= window.inMilliseconds, "gap \(gap) ms in \(window)")

        fleet.sendLine("quit")
        #expect(await fleet.waitForExit(timeout: .seconds(10)))
    }

    /// Every command against the two stations.
    static func commands(_ fleet: PythonPeer, north: FakeStation, south: FakeStation) async throws {
        fleet.sendLine("drones")
        try await fleet.waitForLines { $0["drones"] == 6 && $0["stations"] == 2 }
        let listed = fleet.lines { $0["station"] != nil && $0["connected"] == true }.compactMap { $0["id"]?.stringValue }
        #expect(listed == ["north/copter-1", "north/copter-2", "north/copter-10", "south/copter-1", "south/copter-2", "south/copter-3"])

        fleet.sendLine(#"send * takeoff {"height": 1.5}"#)
        try await fleet.waitForLines { $0["command"] == "send" && $0["sent"] == 6 }
        #expect(await north.wait { $0.actions.count == 1 })
        #expect(await south.wait { $0.actions.count == 1 })
        #expect(north.actions[0].drone == "all" && north.actions[0].arguments.kwargs["height"] == 1.5)

        fleet.sendLine("request * telemetry")
        try await fleet.waitForLines { $0["command"] == "request" && $0["answered"] == 6 && $0["total"] == 6 }
        #expect(fleet.lines { $0["value"]?["mode"] == "OFFBOARD" }.count == 6)

        fleet.sendLine("request north/ghost,south/copter-3 telemetry")
        let ghost = try await fleet.waitForLines { $0["error"]?["code"] == "unknown_drone" }[0]
        #expect(ghost["id"] == "north/ghost")
        try await fleet.waitForLines { $0["command"] == "request" && $0["answered"] == 1 && $0["errors"]?["unknown_drone"] == 1 }

        fleet.sendLine("clock")
        let clocks = try await fleet.waitForLines(count: 2) { $0["station"] != nil && $0["offset_ms"] != nil && $0["samples"] != nil }
        let northClock = try #require(clocks.first { $0["station"] == "north" })
        let southClock = try #require(clocks.first { $0["station"] == "south" })
        let northOffset = try #require(northClock["offset_ms"]?.doubleValue)
        // The north station's clock runs 1.5 s ahead: the measurement is off by at most
        // its uncertainty (half the best sample's round trip, however loaded the machine).
        let uncertainty = try (#require(northClock["uncertainty_ms"]?.doubleValue), #require(southClock["uncertainty_ms"]?.doubleValue))
        #expect(abs(northOffset - 1500) <= uncertainty.0 + 1, "\(northClock)")

        fleet.sendLine(#"start-at 3 start {"show": "demo"} *"#)
        try await fleet.waitForLines { $0["command"] == "start-at" && $0["acknowledged"] == 6 && $0["stations"] == 2 }
        #expect(north.starts.count == 1 && south.starts.count == 1)
        // Each station's instant carries its offset's error: at most the two uncertainties together.
        #expect(abs((north.starts.first?.time ?? 0) - (south.starts.first?.time ?? 0) - 1.5) < 0.1 + (uncertainty.0 + uncertainty.1) / 1000)

        try await north.publish(.joined, drone: "copter-11", FleetDroneEvent(station: "north", drone: "copter-11", address: "127.0.0.1:7", time: 0))
        try await fleet.waitForLines { $0["event"] == "joined" && $0["id"] == "north/copter-11" }
        try await north.publish(.telemetry, drone: "copter-1", ["battery": 11.9] as JSONValue)

        fleet.sendLine("watch north/*")
        try await fleet.waitForLines { $0["watch"] == 4 }
        let row = fleet.lines { $0["id"] == "north/copter-1" && $0["telemetry"] != nil }
        #expect(row.last?["telemetry"]?["battery"] == 11.9)

        fleet.sendLine("help")
        try await fleet.waitForLines { $0["help"] != nil }
        fleet.sendLine("bogus")
        try await fleet.waitForLines { $0["error"]?["code"] == "unknown_command" }
        fleet.sendLine("send east/* land")
        try await fleet.waitForLines { $0["error"]?["code"] == "unknown_station" }
        fleet.sendLine("send north takeoff")
        try await fleet.waitForLines { $0["error"]?["code"] == "invalid_target" }
    }

    @Test("fleet without a NATS server says how to start one")
    func noServer() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let port = try await NATSServerProcess.freePort()
        let output = try await ChildProcess.run(binary, ["fleet", "--nats", "nats://127.0.0.1:\(port)"])
        #expect(output.status != 0)
        #expect(String(decoding: output.stderr, as: UTF8.self).contains("nats-server -a 127.0.0.1 -p 4222"))
    }
}
