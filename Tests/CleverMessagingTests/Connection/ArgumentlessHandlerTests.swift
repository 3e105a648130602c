import CleverMessaging
import CleverTestSupport
import NIOConcurrencyHelpers
import Testing

/// Handlers for actions and requests without arguments are registered with a
/// closure of the connection alone; the compiler picks them (and the
/// `args`/`kwargs` ones) without annotations.
@Suite("Connection: handlers without arguments", .timeLimit(.minutes(1)))
struct ArgumentlessHandlerTests {
    struct Status: Codable, Sendable, Equatable {
        var armed: Bool
        var mode: String
    }

    @Test("onRequest and onAction with a closure of the connection, sync and async")
    func argumentless() async throws {
        let registry = HandlerRegistry()
        let landed = Watched(0)
        let tookOff = Watched(0)
        // The common forms, none annotated.
        registry.onRequest("id") { connection in "copter-1" }
        registry.onRequest("status") { _ in Status(armed: true, mode: "OFFBOARD") }
        registry.onRequest("slow_id") { _ in
            await Task.yield()
            return "copter-1"
        }
        registry.onAction("land") { _ in landed.update { $0 += 1 } }
        registry.onAction("takeoff") { _ in
            await Task.yield()
            tookOff.update { $0 += 1 }
        }
        // The args/kwargs forms stay as they were beside them.
        registry.onRequest("echo") { _, args, kwargs in ["args": .array(args), "kwargs": .object(kwargs)] }
        registry.onAction("note") { _, _, _ in }

        try await SwiftPairTests.withPair(serverRegistry: registry) { _, client, _ in
            let connection = client.connection
            #expect(try await connection.request("id", as: String.self) == "copter-1")
            #expect(try await connection.request("id") == "copter-1")
            #expect(try await connection.request("status", as: Status.self) == Status(armed: true, mode: "OFFBOARD"))
            #expect(try await connection.request("slow_id", as: String.self) == "copter-1")
            // Arguments sent to an argument-less handler are ignored.
            #expect(try await connection.request("id", args: [1], kwargs: ["x": 2]) == "copter-1")
            #expect(try await connection.request("echo", args: [1]) == ["args": [1], "kwargs": [:]])
            try await connection.send("land")
            try await connection.send("takeoff", kwargs: ["height": 1.5])
            #expect(await landed.wait { $0 == 1 })
            #expect(await tookOff.wait { $0 == 1 })
        }
    }
}
