@testable import CleverMessaging
import CleverTestSupport
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Telemetry: the station's table of the latest record per drone (pure, with
/// injected instants), records pushed by drones of this library and by the
/// Python reference-style drone, and the publisher's rate.
@Suite("Fleet: telemetry", .timeLimit(.minutes(1)))
struct TelemetryTests {
    struct Record: Codable, Sendable, Hashable {
        var battery: Double
        var mode: String
        var armed: Bool
    }

    @Test("the table keeps the latest record per drone; ages are computed when read")
    func table() {
        var table = TelemetryTable()
        let start = ContinuousClock.now
        table.record(["battery": 12.1], from: "a", at: start)
        table.record(["battery": 11.9], from: "b", at: start.advanced(by: .milliseconds(300)))
        table.record(["battery": 12.0], from: "a", at: start.advanced(by: .seconds(1)))
        // An earlier record arriving late never replaces a later one.
        table.record(["battery": 99], from: "a", at: start.advanced(by: .milliseconds(500)))
        let now = start.advanced(by: .seconds(3))
        #expect(table.count == 2)
        #expect(table.latest(of: "a", at: now) == TelemetrySample(droneID: "a", record: ["battery": 12.0], age: .seconds(2), count: 2))
        #expect(table.latest(of: "b", at: now)?.age == .milliseconds(2700))
        #expect(table.latest(of: "ghost", at: now) == nil)
        #expect(table.all(at: now).map(\.droneID) == ["a", "b"])
        #expect(Set(table.ages(at: now)) == [.seconds(2), .milliseconds(2700)])
        // A clock read before the record (two threads): the age is never negative.
        #expect(table.latest(of: "a", at: start)?.age == .zero)
        table.remove("a")
        #expect(table.all(at: now).map(\.droneID) == ["b"])
    }

    @Test("a sample decodes into the application's record type, or says why not")
    func decoding() throws {
        let sample = TelemetrySample(droneID: "a", record: ["battery": 12.5, "mode": "OFFBOARD", "armed": true], age: .zero, count: 1)
        #expect(try sample.decode(Record.self) == Record(battery: 12.5, mode: "OFFBOARD", armed: true))
        let broken = TelemetrySample(droneID: "a", record: ["battery": "full"], age: .zero, count: 1)
        #expect(throws: MessagingError.self) { try broken.decode(Record.self) }
    }

    /// Waits until `body` holds, checking it again as each record reaches `station`
    /// (``GroundStation/telemetryUpdates()``), up to 30 s.
    static func eventually(_ station: GroundStation, _ body: @escaping @Sendable () -> Bool) async -> Bool {
        let updates = station.telemetryUpdates()
        return await withDeadline(.seconds(30), else: false) {
            if body() { return true }
            for await _ in updates where body() { return true }
            return false
        }
    }

    @Test("a Codable record's push is written straight from its text, byte for byte what its tree would give")
    func typedRecordBytes() throws {
        struct Detailed: Encodable {
            var battery: [Double]
            var position: [Double]
            var name: String
            var flags: [String: Bool]
        }
        let record = Detailed(battery: [12.6, 0.97], position: [1e-7, -0.0, 1e16, 3.5], name: "Дрон \"7\"\n", flags: ["armed": false])
        let writer = FrameWriter(marker: nil)
        guard case .encoded = try TelemetryPublisher.arguments(of: record) else {
            Issue.record("a Codable record goes through a tree")
            return
        }
        var typed = ByteBuffer()
        try writer.writeAction(TelemetryStore.action, arguments: TelemetryPublisher.arguments(of: record), into: &typed)
        var tree = ByteBuffer()
        try writer.writeAction(TelemetryStore.action, args: [], kwargs: ["value": JSONValueEncoder().encode(record)], into: &tree)
        #expect(typed == tree)
        // A record that is a tree already is sent as it is.
        guard case .values(let args, let kwargs) = try TelemetryPublisher.arguments(of: ["n": 1] as JSONValue) else {
            Issue.record("a JSONValue record is encoded again")
            return
        }
        #expect(args.isEmpty && kwargs == ["value": ["n": 1]])
    }

    @Test("a drone of this library pushes its Codable record at a rate; the station stores it with its age")
    func swiftDrone() async throws {
        try await GroundStationTests.withStation { station, port in
            let registry = HandlerRegistry()
            registry.onRequest("id") { _, _, _ in "swift-1" }
            let client = MessagingClient(host: "127.0.0.1", port: port, registry: registry)
            let battery = NIOLockedValueBox(12.6)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.run() }
                group.addTask {
                    await client.pushTelemetry(every: .milliseconds(20)) {
                        Record(battery: battery.withLockedValue { $0 }, mode: "OFFBOARD", armed: false)
                    }
                }
                #expect(await Self.eventually(station) { (station.telemetry(of: "swift-1")?.count ?? 0) >= 3 })
                let changed = ContinuousClock.now
                battery.withLockedValue { $0 = 11.1 }
                #expect(await Self.eventually(station) { (try? station.telemetry(of: "swift-1", as: Record.self))??.record.battery == 11.1 })
                let latest = try #require(try station.telemetry(of: "swift-1", as: Record.self))
                #expect(latest.record == Record(battery: 11.1, mode: "OFFBOARD", armed: false))
                // Its age counts from its arrival, which came after the change.
                #expect(latest.age <= ContinuousClock.now - changed)
                #expect(station.latestTelemetry.map(\.droneID) == ["swift-1"])
                // On a link with acknowledged delivery, records go unnumbered: none waits for an acknowledgement.
                // The agreement may come after the first records on a loaded machine: waited for, as records arrive.
                #expect(await Self.eventually(station) { client.connection.deliversAcknowledged })
                #expect(client.connection.deliveryStatistics.sent == 0)
                // Shut down, the client stops pushing: its pushing task ends on its own.
                client.shutdown()
                try await group.waitForAll()
            }
            // The record stays, and ages.
            let kept = try #require(station.telemetry(of: "swift-1"))
            #expect(kept.record["mode"] == "OFFBOARD")
        }
    }

    @Test("one publisher drives many drones' pushes at the rate asked")
    func publisherForMany() async throws {
        try await GroundStationTests.withStation { station, port in
            let ids = (1...20).map { "p\($0)" }
            let clients = ids.map { id in
                let registry = HandlerRegistry()
                registry.onRequest("id") { _, _, _ in .string(id) }
                return MessagingClient(host: "127.0.0.1", port: port, registry: registry)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in clients { group.addTask { try await client.run() } }
                try await station.waitForDrones(ids.count, timeout: .seconds(30))
                let started = ContinuousClock.now
                group.addTask {
                    await TelemetryPublisher(hertz: 20).run(clients.map(\.connection)) { index in ["n": .integer(index)] as JSONValue }
                }
                #expect(await Self.eventually(station) { station.latestTelemetry.count == ids.count && station.latestTelemetry.allSatisfy { $0.count >= 5 } })
                let elapsed = started.duration(to: .now)
                let counts = station.latestTelemetry.map(\.count)
                // At 20 Hz no drone has many more records than the time allows (one batch of slack).
                let allowed = Int(elapsed / .milliseconds(50)) + 2
                #expect(counts.allSatisfy { $0 <= allowed }, "\(counts) in \(elapsed)")
                #expect(station.telemetry(of: "p7")?.record == ["n": 6])
                for client in clients { client.shutdown() }
                try await group.waitForAll()
            }
        }
    }

    @Test("a handler for telemetry registered before the station still runs, after the record is stored; the stream of updates has it")
    func earlierHandler() async throws {
        let registry = HandlerRegistry()
        let seen = Watched<[JSONObject]>([])
        registry.onAction("telemetry") { _, _, kwargs in seen.update { $0.append(kwargs) } }
        let station = GroundStation(host: "127.0.0.1", port: 0, registry: registry)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try await station.server.localAddress().port!
            let client = GroundStationTests.drone("d1", port: port)
            group.addTask { try await client.run() }
            try await station.waitForDrones(1, timeout: .seconds(30))
            var updates = station.telemetryUpdates().makeAsyncIterator()
            try await client.connection.send("telemetry", kwargs: ["value": ["armed": true]])
            // The stream of updates has the record as it arrived.
            let update = await updates.next()
            #expect(update?.droneID == "d1" && update?.record == ["armed": true] && update?.age == .zero && update?.count == 1)
            #expect(await seen.wait(timeout: .seconds(10)) { !$0.isEmpty })
            #expect(station.telemetry(of: "d1")?.record == ["armed": true])
            #expect(seen.value == [["value": ["armed": true]]])
            client.shutdown()
            station.shutdown()
            try await group.waitForAll()
            // The station stopped: so did its stream.
            #expect(await updates.next() == nil)
        }
    }

    @Test("the Python reference-style drone's telemetry push is stored")
    func pythonDrone() async throws {
        try await GroundStationTests.withStation { station, port in
            let peer = try PythonPeer(["client", "--port", "\(port)", "--id", "py-telemetry"])
            try await station.waitForDrones(1, timeout: .seconds(15))
            // As the reference's Telemetry.transmit_message sends it: action telemetry, no args, kwargs {"value": record}.
            peer.send(["cmd": "send", "action": "telemetry", "kwargs": ["value": ["battery": [12.1, 0.87], "mode": "OFFBOARD", "armed": false, "time_delta": 1581342970.889573]]])
            #expect(await Self.eventually(station) { station.telemetry(of: "py-telemetry") != nil })
            let sample = try #require(station.telemetry(of: "py-telemetry"))
            #expect(sample.record["mode"] == "OFFBOARD")
            #expect(sample.record["battery"] == [12.1, 0.87])
            #expect(sample.count == 1)
            #expect(sample.age < .seconds(5))
            await peer.quit()
        }
    }
}
