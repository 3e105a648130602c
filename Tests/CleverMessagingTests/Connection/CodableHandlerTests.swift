import CleverMessaging
import CleverTestSupport
import NIOConcurrencyHelpers
import Testing

@Suite("Connection: Codable handlers", .timeLimit(.minutes(1)))
struct CodableHandlerTests {
    struct Goto: Codable, Sendable, Equatable {
        var x: Double
        var y: Double
        var z: Double
        var frame: String?
    }

    struct Telemetry: Codable, Sendable, Equatable {
        var battery: [Double]
        var armed: Bool
        var mode: String
    }

    @Test("requests and actions with Decodable arguments and Encodable replies")
    func codable() async throws {
        let registry = makeTestRegistry()
        let moves = Watched<[Goto]>([])
        registry.onAction("goto", decoding: Goto.self) { _, goto in moves.update { $0.append(goto) } }
        registry.onRequest("telemetry", decoding: Goto.self) { _, goto in
            Telemetry(battery: [12.1, goto.x], armed: false, mode: goto.frame ?? "none")
        }
        try await SwiftPairTests.withPair(serverRegistry: registry) { _, client, _ in
            let reply = try await client.connection.request(
                "telemetry",
                arguments: Goto(x: 0.5, y: 1, z: 2, frame: "aruco_map"),
                as: Telemetry.self
            )
            #expect(reply == Telemetry(battery: [12.1, 0.5], armed: false, mode: "aruco_map"))
            try await client.connection.send("goto", kwargs: ["x": 1, "y": 2.5, "z": 3])
            await moves.wait(timeout: .seconds(5)) { !$0.isEmpty }
            #expect(moves.value == [Goto(x: 1, y: 2.5, z: 3, frame: nil)])
            // kwargs that do not decode: the handler fails, the caller gets an error reply.
            do {
                _ = try await client.connection.request("telemetry", arguments: ["x": "not a number"], as: Telemetry.self)
                Issue.record("expected an error")
            } catch {
                guard case .remote(let remote)? = error as? MessagingError else { Issue.record("got \(error)"); return }
                #expect(remote.code == RemoteError.Code.handlerFailed)
            }
            // A reply that does not decode as asked.
            await #expect(throws: MessagingError.self) {
                _ = try await client.connection.request("id", as: Telemetry.self)
            }
        }
    }
}
