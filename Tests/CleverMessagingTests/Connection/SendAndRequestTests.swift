import CleverMessaging
import Testing

/// One way to send and one way to ask: `send` and `request` on a connection,
/// `broadcast` and `requestAll` on a server, with `Encodable` arguments or raw
/// `args`/`kwargs`.
@Suite("Connection: send and request", .timeLimit(.minutes(1)))
struct SendAndRequestTests {
    struct Move: Codable, Sendable, Equatable {
        var x: Double
        var y: Double
    }

    struct Echo: Decodable, Equatable {
        var args: [Double]
        var kwargs: [String: Double]
    }

    @Test("send: an object becomes kwargs, an array args, raw args/kwargs go as given")
    func send() async throws {
        let registry = makeTestRegistry()
        let recorder = ActionRecorder(recording: ["move"], on: registry)
        try await SwiftPairTests.withPair(serverRegistry: registry) { _, client, _ in
            try await client.connection.send("move", arguments: Move(x: 1, y: 2))
            try await client.connection.send("move", arguments: [3.0, 4.0])
            try await client.connection.send("move", args: [5], kwargs: ["z": 6])
            try await client.connection.send("move")
            let received = try await recorder.waitFor(count: 4)
            #expect(received.map(\.kwargs) == [["x": 1.0, "y": 2.0], [:], ["z": 6], [:]])
            #expect(received.map(\.args) == [[], [3.0, 4.0], [5], []])
        }
    }

    @Test("request: typed with Encodable arguments, typed without, and raw")
    func request() async throws {
        try await SwiftPairTests.withPair { _, client, _ in
            let connection = client.connection
            let byObject = try await connection.request("echo", arguments: Move(x: 1, y: 2), as: Echo.self)
            #expect(byObject == Echo(args: [], kwargs: ["x": 1, "y": 2]))
            let byArray = try await connection.request("echo", arguments: [7.0], as: Echo.self, timeout: .seconds(5))
            #expect(byArray == Echo(args: [7], kwargs: [:]))
            let id = try await connection.request("id", as: String.self)
            #expect(id == "swiftcopter")
            let raw = try await connection.request("echo", args: [1], kwargs: ["k": 2])
            #expect(raw == ["args": [1], "kwargs": ["k": 2]])
            await #expect(throws: MessagingError.self) {
                _ = try await connection.request("echo", arguments: 5, as: Echo.self)
            }
        }
    }

    @Test("server: broadcast and requestAll take Encodable arguments too")
    func server() async throws {
        try await SwiftPairTests.withPair { server, client, _ in
            let recorder = ActionRecorder(recording: ["move"], on: client.connection.registry)
            let sent = try server.broadcast("move", arguments: Move(x: 1, y: 2))
            #expect(sent.count == 1)
            try await sent[0].result.get().written()
            #expect(try await recorder.waitFor(count: 1).first?.kwargs == ["x": 1.0, "y": 2.0])
            let answers = try await server.requestAll("echo", arguments: [9])
            #expect(try answers.map { try $0.result.get() } == [["args": [9], "kwargs": [:]]])
        }
    }
}
