import CleverMessaging
import CleverNATS
import CleverTestSupport
import Foundation
import Logging
import Testing

@testable import CleverBridge

/// The fleet view against fake stations behind a real `nats-server` on loopback.
@Suite("Fleet view over NATS", .serialized, .needsNATSServer, .timeLimit(.minutes(2)))
struct FleetViewTests {
    /// A view on a client of `urls`; `uptime` is its clock for how long the connection was down (default: the real one).
    static func view(
        _ urls: [String], configure: (inout FleetView.Configuration) -> Void = { _ in },
        uptime: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) async throws -> FleetView {
        var nats = try NATSConfiguration(urls: urls)
        nats.reconnectDelay = .milliseconds(50)
        nats.maximumReconnectDelay = .milliseconds(200)
        nats.maximumReconnectAttempts = 200
        let client = NATSClient(configuration: nats)
        try await client.connect()
        var configuration = FleetView.Configuration()
        // Generous on a loaded machine; the tests know how many stations answer.
        configuration.discoveryWindow = .seconds(5)
        configuration.requestTimeout = .seconds(2)
        configure(&configuration)
        return FleetView(client: client, configuration: configuration, logger: Logger(label: "clever.fleet"), uptime: uptime) {
            Date().timeIntervalSince1970
        }
    }

    @Test func twoStationsOneFleet() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        let north = try await FakeStation(name: "north", drones: (1...3).map { "copter-\($0)" }, skew: 2.5, url: server.url)
        let south = try await FakeStation(name: "south", drones: ["copter-1", "copter-10", "copter-2"], skew: -1, url: server.url)
        let view = try await Self.view([server.url]) { $0.expectedStations = 2 }
        try await withFakeStations([north, south]) {
            let statuses = try await view.discover()
            #expect(statuses.map(\.station) == ["north", "south"])
            let drones = try await view.drones()
            #expect(drones.map(\.description) == [
                "north/copter-1", "north/copter-2", "north/copter-3", "south/copter-1", "south/copter-2", "south/copter-10",
            ])

            // An action to all: one message per station, to `all`.
            let sent = try await view.send("takeoff", arguments: FleetArguments(kwargs: ["height": 1.5]), to: .all)
            #expect(sent.count == 6)
            // One drone of a station, and a whole other station.
            try await view.send("land", to: FleetTarget(parsing: "north/copter-2,south/*"))
            try await view.client.flush()
            #expect(await north.wait { $0.actions.count == 2 })
            #expect(await south.wait { $0.actions.count == 2 })
            #expect(north.actionsByDrone["copter-2"] == ["takeoff", "land"])
            #expect(north.actionsByDrone["copter-1"] == ["takeoff"])
            #expect(south.actionsByDrone.values.allSatisfy { $0 == ["takeoff", "land"] })
            #expect(north.actions[0].arguments.kwargs["height"] == 1.5)

            // Request-all: one result per drone, the unknown one a typed error.
            let replies = try await view.request("telemetry", from: FleetTarget(parsing: "north/*,south/copter-1,south/copter-2,south/copter-10,south/ghost"))
            #expect(replies.count == 7)
            #expect(replies.filter { (try? $0.result.get())?["mode"] == "OFFBOARD" }.count == 6)
            let ghost = try #require(replies.first { $0.drone.drone == "ghost" })
            #expect(throws: FleetError(code: "unknown_drone", message: "no drone ghost")) { try ghost.result.get() }

            // A station that is not there: no responders, or a whole station that did not answer discovery.
            let missing = try await view.request("telemetry", from: FleetTarget(parsing: "east/copter-1"))
            #expect(missing.count == 1)
            if case .failure(let error) = missing[0].result { #expect(["no_responders", "timed_out"].contains(error.code)) } else { Issue.record("east answered") }
            await #expect(throws: FleetError.unknownStation("east")) { try await view.request("telemetry", from: FleetTarget(parsing: "east/*")) }

            // The stations' clocks, measured over NATS.
            let clocks = try await view.measureClocks()
            let northClock = try #require(try clocks["north"]?.get())
            let southClock = try #require(try clocks["south"]?.get())
            // Within the measurement's own uncertainty (a loaded machine's round trips widen it).
            #expect(abs(northClock.offset.fleetTestSeconds - 2.5) < max(0.1, northClock.uncertainty.fleetTestSeconds))
            #expect(abs(southClock.offset.fleetTestSeconds + 1) < max(0.1, southClock.uncertainty.fleetTestSeconds))
            #expect(northClock.uncertainty < .seconds(2) && northClock.samples == 8)

            // A timed start across both: each station gets the instant on its own clock.
            let instant = Date().timeIntervalSince1970 + 5
            let outcomes = try await view.start(at: instant, action: "start", kwargs: ["show": "demo"], target: .all)
            #expect(outcomes.map(\.station) == ["north", "south"])
            #expect(outcomes.allSatisfy { (try? $0.result.get())?.succeeded.count == 3 })
            #expect(abs((north.starts.first?.time ?? 0) - (instant + 2.5)) < 0.1)
            #expect(abs((south.starts.first?.time ?? 0) - (instant - 1)) < 0.1)
            #expect(north.starts.first?.drones == nil && north.starts.first?.kwargs["show"] == "demo")

            // Single drones: the station gets their list.
            let some = try await view.start(at: instant, action: "start", target: FleetTarget(parsing: "south/copter-2,south/ghost"))
            #expect(some.map(\.station) == ["south"])
            #expect(south.starts.last?.drones == ["copter-2", "ghost"])
            #expect((try? some[0].result.get())?.failed["ghost"]?.code == "unknown_drone")
        }
        await view.client.close()
    }

    @Test func requestsAreBoundedAndTimeOutAsTypedErrors() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        let station = try await FakeStation(
            name: "busy", drones: (1...20).map { "d\($0)" }, url: server.url, holdRequestsUntilInFlight: 4)
        let view = try await Self.view([server.url]) {
            $0.expectedStations = 1
            $0.maximumConcurrentRequests = 4
            // Long enough for a loaded machine's answers; the silent requests wait it out.
            $0.requestTimeout = .seconds(5)
        }
        try await withFakeStations([station]) {
            let replies = try await view.request("telemetry", from: .all)
            #expect(replies.count == 20 && replies.allSatisfy { (try? $0.result.get()) != nil })
            // The first four are held until all four are in flight: the view overlaps its
            // requests up to its bound, and never past it.
            #expect(station.mostInFlight == 4)
            let silent = try await view.request("silence", from: FleetTarget(parsing: "busy/d1,busy/d2"))
            #expect(silent.map { (try? $0.result.get()) == nil } == [true, true])
            if case .failure(let error) = silent[0].result { #expect(error.code == "timed_out") }
        }
        await view.client.close()
    }

    @Test func eventsFillTheTableAndAGapIsReported() async throws {
        var server = try await NATSServerProcess()
        let port = server.port
        defer { server.stop() }
        let station = try await FakeStation(name: "north", drones: ["a", "b"], url: server.url)
        // The view's clock for the gap is the test's: it moves only when the test moves it.
        let start = ContinuousClock.now
        let elapsed = Watched(Duration.zero)
        let view = try await Self.view([server.url], uptime: { start + elapsed.value })
        var events = view.events().makeAsyncIterator()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await view.run() }
            await view.waitUntilWatching()
            try await station.publish(.joined, drone: "a", FleetDroneEvent(station: "north", drone: "a", address: "127.0.0.1:9", time: 1))
            try await station.publish(.telemetry, drone: "a", ["battery": 12.1] as JSONValue)
            try await station.publish(.clock, drone: "a", FleetClockEvent(drone: "a", offsetMilliseconds: -3, uncertaintyMilliseconds: 0.2))
            try await station.client.publish("{broken", to: "clever.north.b.file")
            try await station.client.flush()
            var seen: [FleetViewEvent] = []
            while let event = await events.next() {
                seen.append(event)
                if seen.count == 4 { break }
            }
            let a = FleetDroneID(station: "north", drone: "a")
            #expect(seen[0] == .joined(a, FleetDroneEvent(station: "north", drone: "a", address: "127.0.0.1:9", time: 1)))
            #expect(seen[1] == .telemetry(a, ["battery": 12.1]))
            if case .malformed(let subject, _) = seen[3] { #expect(subject == "clever.north.b.file") } else { Issue.record("\(seen[3])") }
            let row = try #require(view.table.rows[a])
            #expect(row.connected == true && row.telemetry == ["battery": 12.1] && row.clockOffsetMilliseconds == -3)

            // The server goes away and comes back on the same port: the view says how long it was
            // gone, on its clock (the outage lasts 300 ms of the test's clock, whatever the wall clock does).
            server.stop()
            var dropped = false
            while let event = await events.next() {
                if event == .disconnected {
                    dropped = true
                    break
                }
            }
            elapsed.update { $0 += .milliseconds(300) }
            server = try await NATSServerProcess(port: port)
            var gap: Duration?
            while let event = await events.next() {
                if case .reconnected(let length) = event {
                    gap = length
                    break
                }
            }
            #expect(dropped)
            #expect(try #require(gap) == .milliseconds(300))
            group.cancelAll()
        }
        await view.client.close()
        await station.client.close()
    }
}

extension Duration {
    fileprivate var fleetTestSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
