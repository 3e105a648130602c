@testable import CleverMessaging
import NIOCore
import Testing

/// A Swift ``MessagingClient`` connected to the Python reference-style peer as server.
@Suite("Interop: Python server, Swift client", .timeLimit(.minutes(2)))
struct PythonServerSwiftClientTests {
    static func withPair(
        serverArguments: [String] = ["--sequential-ids"],
        _ body: (PythonPeer, MessagingClient, ActionRecorder) async throws -> Void
    ) async throws {
        let peer = try PythonPeer(["server", "--port", "0"] + serverArguments)
        let port = try await peer.listeningPort()
        let registry = makeTestRegistry()
        let recorder = ActionRecorder(recording: ["start", "takeoff"], on: registry)
        let client = MessagingClient(
            host: "127.0.0.1",
            port: port,
            registry: registry,
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(100))
        )
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await #expect(throws: Never.self) { try await client.run() } }
            do {
                try await client.connection.waitUntilConnected()
                try await peer.waitFor("accepted")
                try await body(peer, client, recorder)
            } catch {
                Issue.record(error)
            }
            client.shutdown()
            await peer.quit()
        }
    }

    @Test("actions and requests with every JSON kind, both ways")
    func actionsAndRequests() async throws {
        try await Self.withPair { peer, client, recorder in
            let connection = client.connection
            peer.send(["cmd": "send", "action": "takeoff", "args": [], "kwargs": ["height": 1.5, "big": .bigInteger("18446744073709551616")]])
            let received = try await recorder.waitFor(count: 1)
            #expect(received[0].kwargs == ["height": 1.5, "big": .bigInteger("18446744073709551616")])

            try await connection.send("start", args: [1, "two", 3.5, nil, true], kwargs: ["time": "1700000000.5"])
            let action = try await peer.waitFor("action")[0]
            #expect(action["args"] == [1, "two", 3.5, nil, true])
            #expect(action["kwargs"] == ["time": "1700000000.5"])

            #expect(try await connection.request("echo", kwargs: everyJSONKind) == ["args": [], "kwargs": .object(everyJSONKind)])
            peer.send(["cmd": "request", "value": "echo", "kwargs": .object(everyJSONKind), "tag": "x"])
            let response = try await peer.waitFor("response")[0]
            #expect(response["value"] == ["args": [], "kwargs": .object(everyJSONKind)])
        }
    }

    /// The kinds of `everyJSONKind` a typed reply reads (the Python peer's own text for them).
    struct EchoedKinds: Decodable, Equatable {
        struct Kinds: Decodable, Equatable {
            var null: Int?
            var `true`: Bool
            var int: Int
            var negative: Int8
            var float: Double
            var integral_float: Double
            var inf: Double
            var ninf: Float
            var text: String
            var object: [String: [String: [Bool]]]
        }
        var args: [Int]
        var kwargs: Kinds
    }

    @Test("a typed reply from the Python peer decodes from its text, as its value would")
    func typedReply() async throws {
        try await Self.withPair { _, client, _ in
            let connection = client.connection
            let echoed = try await connection.request("echo", args: [], kwargs: everyJSONKind, as: EchoedKinds.self, timeout: nil)
            #expect(connection.typedReplies.decodedFromText == 1)
            #expect(connection.typedReplies.decodedFromValue == 0)
            let tree = try MessageArguments.decode(["args": [], "kwargs": .object(everyJSONKind)], as: EchoedKinds.self, name: "echo")
            #expect(echoed == tree)
            #expect(echoed.kwargs.text == "Дрон №7 ✈ 🚁 \"quoted\" \\ \n\t")
            #expect(echoed.kwargs.ninf == -.infinity)
            // A reply of the wrong shape fails as it would from the value.
            await #expect(throws: MessagingError.self) { _ = try await connection.request("id", as: Int.self) }
            #expect(try await connection.request("id", as: String.self) == "pycopter")
        }
    }

    @Test("unknown request times out; unknown action is dropped; connection kept")
    func unknowns() async throws {
        try await Self.withPair { peer, client, _ in
            let connection = client.connection
            try await connection.send("no_such_action")
            try await peer.waitFor("unknown_action")
            await #expect(throws: MessagingError.self) {
                _ = try await connection.request("no_such_value", timeout: .milliseconds(200))
            }
            #expect(try await connection.request("id") == "pycopter")
        }
    }

    @Test("the same Connection reconnects and resends a pending request with its arguments")
    func reconnectResends() async throws {
        try await Self.withPair { peer, client, _ in
            let connection = client.connection
            async let answer = connection.request("slow", args: ["keep", 7], kwargs: ["delay": 0.05, "hold_first": true], timeout: .seconds(10))
            try await peer.waitFor("request") { $0["value"] == "slow" }
            peer.send(["cmd": "drop"])
            // The peer never answers the first copy (`hold_first`); only the copy resent on
            // the new link can be answered, whatever the timing of the drop.
            let value = try await answer
            #expect(value == ["args": ["keep", 7], "kwargs": ["delay": 0.05, "hold_first": true]])
            let requests = peer.events("request") { $0["value"] == "slow" }
            try #require(requests.count == 2)
            #expect(requests[0]["request_id"] == requests[1]["request_id"])
            #expect(requests[1]["args"] == ["keep", 7])
            #expect(connection.linkCount == 2)
            #expect(try await connection.request("id") == "pycopter")
        }
    }
}
