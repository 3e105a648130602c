import CleverMessaging
import CleverTestSupport
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// ``GroundStation/requestAll(_:from:as:timeout:)`` and ``MessagingServer/requestAll(_:args:kwargs:timeout:connections:)``.
@Suite("Ground station: request all", .timeLimit(.minutes(1)))
struct RequestAllTests {
    /// The drones whose `telemetry` handler has been called.
    static let asked = Watched<Set<String>>([])

    /// How a test drone answers `telemetry`.
    enum Telemetry {
        /// No handler for it.
        case noHandler
        /// A synchronous handler: its reply goes out before the drone reads the link's next frame.
        case answer
        /// A handler that answers only once its test has ended: a request to it times out or is cancelled.
        case hold
    }

    /// A drone that answers `telemetry` as `telemetry` says; its handler notes its id in ``asked`` first.
    /// Held handlers answer once `released` is true.
    static func drone(_ id: String, port: Int, telemetry: Telemetry, released: Watched<Bool>) -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        registry.onRequest("clover_dir") { _, _, _ in "/home/pi" }
        switch telemetry {
        case .noHandler:
            break
        case .answer:
            registry.onRequest("telemetry") { _, _, _ -> JSONValue in
                Self.asked.update { _ = $0.insert(id) }
                return ["id": .string(id)]
            }
        case .hold:
            registry.onRequest("telemetry") { _, _, _ -> JSONValue in
                Self.asked.update { _ = $0.insert(id) }
                try await released.waitCancellably { $0 }
                return ["id": .string(id)]
            }
        }
        return MessagingClient(host: "127.0.0.1", port: port, registry: registry, reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50)))
    }

    /// Runs drones against a station until `body` returns.
    static func withDrones(
        _ drones: [(id: String, telemetry: Telemetry)],
        _ body: (GroundStation) async throws -> Void
    ) async throws {
        try await GroundStationTests.withStation { station, port in
            let released = Watched(false)
            let clients = drones.map { Self.drone($0.id, port: port, telemetry: $0.telemetry, released: released) }
            let runs = clients.map { client in Task { try await client.run() } }
            try await station.waitForDrones(drones.count, timeout: .seconds(30))
            #expect(station.connectedCount == drones.count)
            try await body(station)
            released.update { $0 = true }
            for client in clients { client.shutdown() }
            for run in runs { try await run.value }
        }
    }

    @Test("one result per drone, sorted by id: a reply, a timeout, a remote error")
    func oneResultPerDrone() async throws {
        try await Self.withDrones([("c", .noHandler), ("a", .answer), ("b", .hold)]) { station in
            // Long enough for "a" to answer on a loaded machine (3 s was once too short for the
            // full suite under ThreadSanitizer); "b" never answers, so it times out (the suite's
            // time limit would fail a call that waited for it).
            let results = await station.requestAll("telemetry", as: JSONValue.self, timeout: .seconds(5))
            try #require(results.map(\.droneID) == ["a", "b", "c"])
            #expect(results[0].result == .success(["id": "a"]))
            guard case .failure(.timedOut(let value, _, let timeout)) = results[1].result else {
                Issue.record("expected a timeout, got \(results[1].result)")
                return
            }
            #expect(value == "telemetry")
            #expect(timeout == .seconds(5))
            // The fan-out's sweep took the expired request off its link's table, as its own deadline would.
            try await station.waitForClockOffset(of: "b", timeout: .seconds(10))
            #expect(station.connection(for: "b")?.pendingRequestCount == 0)
            guard case .failure(.remote(let error)) = results[2].result else {
                Issue.record("expected a remote error, got \(results[2].result)")
                return
            }
            #expect(error.code == RemoteError.Code.unknownRequest)
        }
    }

    @Test("named drones keep their order; an unknown or unlinked one is notConnected")
    func namedDrones() async throws {
        try await Self.withDrones([("a", .answer), ("b", .answer)]) { station in
            let results = await station.requestAll("telemetry", from: ["b", "ghost", "a"], as: JSONValue.self, timeout: .seconds(5))
            try #require(results.map(\.droneID) == ["b", "ghost", "a"])
            #expect(results[0].result == .success(["id": "b"]))
            #expect(results[1].result == .failure(.notConnected))
            #expect(results[2].result == .success(["id": "a"]))
            #expect(await station.requestAll("telemetry", from: [], as: JSONValue.self).isEmpty)
        }
    }

    @Test("the server's form returns one result per connection, in accepted order")
    func serverForm() async throws {
        try await Self.withDrones([("a", .answer), ("b", .answer), ("c", .answer)]) { station in
            let connections = station.server.connections
            let results = await station.server.requestAll("id", timeout: .seconds(5))
            #expect(results.map(\.connection.number) == connections.map(\.number))
            #expect(Set(results.compactMap { try? $0.result.get().stringValue }) == ["a", "b", "c"])
        }
    }

    @Test("cancelling the caller fails the requests still waiting with cancelled")
    func cancellation() async throws {
        try await Self.withDrones([("cancel-a", .answer), ("cancel-slow", .hold)]) { station in
            let task = Task { await station.requestAll("telemetry", as: JSONValue.self, timeout: .seconds(30)) }
            // Cancel once "cancel-a" has answered and "cancel-slow" was asked. Both handlers
            // ran once their ids are in `asked` (so both requests went out); the reply of
            // "cancel-a" (a synchronous handler) went out before the drone read anything
            // sent to it after, so once a later request to it is answered, that reply was in.
            let a = try #require(station.connection(for: "cancel-a"))
            let slow = try #require(station.connection(for: "cancel-slow"))
            #expect(await Self.asked.wait(timeout: .seconds(20)) { $0.isSuperset(of: ["cancel-a", "cancel-slow"]) })
            #expect(try await a.request("id") == "cancel-a")
            // The station measures each drone's clock on connect: those requests are done first.
            // An offset is recorded once its last exchange's reply was taken off the pending table.
            try await station.waitForClockOffset(of: "cancel-a", timeout: .seconds(10))
            try await station.waitForClockOffset(of: "cancel-slow", timeout: .seconds(10))
            #expect(slow.pendingRequestCount == 1)
            #expect(a.pendingRequestCount == 0)
            task.cancel()
            let results = await task.value
            try #require(results.map(\.droneID) == ["cancel-a", "cancel-slow"])
            #expect(results[0].result == .success(["id": "cancel-a"]))
            #expect(results[1].result == .failure(.cancelled))
        }
    }
}
