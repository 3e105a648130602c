import CleverMessaging
import NIOConcurrencyHelpers
import Testing

/// ``GroundStation``'s typed API: send, broadcast, request and requestAll with
/// `Encodable` arguments and `Decodable` replies, one result per drone.
@Suite("Ground station: typed send, broadcast and requests", .timeLimit(.minutes(1)))
struct GroundStationAPITests {
    struct LedFill: Codable, Sendable, Hashable {
        var r: Int
        var g: Int
        var b: Int
    }

    struct Telemetry: Codable, Sendable, Hashable {
        var id: String
        var battery: Double
    }

    struct Scale: Codable, Sendable {
        var factor: Double
    }

    /// A drone answering `id`, `clover_dir` and `telemetry` (its battery times the
    /// request's `factor`), recording the `led_fill` fills it receives.
    static func drone(_ id: String, port: Int, fills: AsyncStream<(String, LedFill)>.Continuation) -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        registry.onRequest("clover_dir") { _, _, _ in "/home/pi" }
        registry.onRequest("telemetry", decoding: Scale.self) { _, scale in Telemetry(id: id, battery: 12 * scale.factor) }
        registry.onRequest("plain") { _, _, _ in .string("plain-\(id)") }
        registry.onAction("led_fill", decoding: LedFill.self) { _, fill in fills.yield((id, fill)) }
        registry.onAction("land") { _, _, _ in fills.yield((id, LedFill(r: -1, g: -1, b: -1))) }
        return MessagingClient(host: "127.0.0.1", port: port, registry: registry, reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50)))
    }

    /// Runs `ids` as drones against a station until `body` returns; `body` gets the fills the drones receive.
    static func withFleet(_ ids: [String], _ body: (GroundStation, AsyncStream<(String, LedFill)>) async throws -> Void) async throws {
        let (fills, continuation) = AsyncStream<(String, LedFill)>.makeStream()
        try await GroundStationTests.withStation { station, port in
            let clients = ids.map { Self.drone($0, port: port, fills: continuation) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in clients { group.addTask { try await client.run() } }
                try await station.waitForDrones(ids.count, timeout: .seconds(30))
                try await body(station, fills)
                for client in clients { client.shutdown() }
                try await group.waitForAll()
            }
        }
    }

    /// The next `count` fills, by drone id.
    static func take(_ count: Int, from fills: AsyncStream<(String, LedFill)>) async -> [String: LedFill] {
        var seen: [String: LedFill] = [:]
        for await (id, fill) in fills {
            seen[id] = fill
            if seen.count == count { break }
        }
        return seen
    }

    @Test("send reaches the named drones; a drone that is not connected is reported, not skipped")
    func send() async throws {
        try await Self.withFleet(["a", "b"]) { station, fills in
            let results = try await station.send("led_fill", arguments: LedFill(r: 1, g: 2, b: 3), to: ["b", "ghost", "a"])
            #expect(results.map(\.droneID) == ["b", "ghost", "a"])
            #expect(results.succeeded == ["b", "a"])
            #expect(results.notConnected == ["ghost"])
            #expect(!results.allSucceeded)
            guard case .failure(.notConnected)? = results[droneID: "ghost"] else {
                Issue.record("ghost: \(String(describing: results[droneID: "ghost"]))")
                return
            }
            #expect(await Self.take(2, from: fills) == ["a": LedFill(r: 1, g: 2, b: 3), "b": LedFill(r: 1, g: 2, b: 3)])
        }
    }

    @Test("broadcast reaches every connected drone, sorted by id; the argument-less form too")
    func broadcast() async throws {
        try await Self.withFleet(["c", "a", "b"]) { station, fills in
            let results = try await station.broadcast("led_fill", arguments: LedFill(r: 9, g: 8, b: 7))
            #expect(results.map(\.droneID) == ["a", "b", "c"])
            #expect(results.allSucceeded)
            #expect(await Self.take(3, from: fills).values.allSatisfy { $0 == LedFill(r: 9, g: 8, b: 7) })
            let landed = try await station.broadcast("land")
            #expect(landed.succeeded == ["a", "b", "c"])
            #expect(await Self.take(3, from: fills).values.allSatisfy { $0.r == -1 })
        }
    }

    @Test("arguments that do not encode to a JSON object are refused before anything is sent")
    func badArguments() async throws {
        try await Self.withFleet(["a"]) { station, _ in
            await #expect(throws: MessagingError.self) { try await station.send("led_fill", arguments: [1, 2, 3], to: ["a"]) }
            await #expect(throws: MessagingError.self) { try await station.broadcast("led_fill", arguments: "red") }
        }
    }

    @Test("request decodes one drone's reply; an unknown drone throws notConnected; a reply of the wrong shape throws decoding")
    func request() async throws {
        try await Self.withFleet(["a"]) { station, _ in
            let telemetry = try await station.request("telemetry", arguments: Scale(factor: 0.5), from: "a", as: Telemetry.self, timeout: .seconds(5))
            #expect(telemetry == Telemetry(id: "a", battery: 6))
            #expect(try await station.request("plain", from: "a", as: String.self) == "plain-a")
            await #expect(throws: MessagingError.notConnected) {
                try await station.request("telemetry", arguments: Scale(factor: 1), from: "ghost", as: Telemetry.self, timeout: .seconds(5))
            }
            do throws(MessagingError) {
                _ = try await station.request("plain", from: "a", as: Telemetry.self)
                Issue.record("a string decoded as Telemetry")
            } catch {
                guard case .decoding = error else {
                    Issue.record("expected a decoding error, got \(error)")
                    return
                }
            }
        }
    }

    @Test("requestAll gives typed results per drone, in the order asked, with the drones not connected")
    func requestAll() async throws {
        try await Self.withFleet(["a", "b"]) { station, _ in
            let all = try await station.requestAll("telemetry", arguments: Scale(factor: 2), as: Telemetry.self, timeout: .seconds(5))
            #expect(all.values.map(\.value) == [Telemetry(id: "a", battery: 24), Telemetry(id: "b", battery: 24)])
            let named = try await station.requestAll("telemetry", arguments: Scale(factor: 1), from: ["b", "ghost"], as: Telemetry.self)
            #expect(named.map(\.droneID) == ["b", "ghost"])
            #expect(try named[0].result.get() == Telemetry(id: "b", battery: 12))
            #expect(named.notConnected == ["ghost"])
        }
    }

    @Test("waitForDrones throws a timeout naming how many drones are connected")
    func waitTimesOut() async throws {
        try await Self.withFleet(["a"]) { station, _ in
            await #expect(throws: MessagingError.waitTimedOut(what: "drones connected", wanted: 2, present: 1, timeout: .milliseconds(50))) {
                try await station.waitForDrones(2, timeout: .milliseconds(50))
            }
            let connected = try await station.waitForDrones(1, timeout: .seconds(1))
            #expect(connected == ["a"])
        }
    }
}
