import CleverTestSupport
import NIOCore
import Testing

@testable import CleverMessaging

/// Typed sends and handlers over a real link: arguments encoded straight into
/// the frame and decoded straight from it, beside handlers of `JSONValue`s.
@Suite("Connection: typed arguments straight to and from the text", .timeLimit(.minutes(1)))
struct TypedTextPathTests {
    struct Goto: Codable, Sendable, Equatable {
        var x: Double
        var y: Double
        var frame: String?
        var path: [Double]
    }

    @Test("typed sends reach typed handlers (sync and async) and JSONValue handlers alike")
    func typedAndValueHandlers() async throws {
        let registry = makeTestRegistry()
        let typed = Watched<[Goto]>([])
        let typedAsync = Watched<[Goto]>([])
        let values = Watched<[JSONObject]>([])
        registry.onAction("goto", decoding: Goto.self) { _, goto in typed.update { $0.append(goto) } }
        registry.onAction("goto_async", decoding: Goto.self) { (_, goto) async in typedAsync.update { $0.append(goto) } }
        registry.onAction("goto_values") { _, _, kwargs in values.update { $0.append(kwargs) } }
        registry.onRequest("double", decoding: Goto.self) { _, goto in Goto(x: goto.x * 2, y: goto.y * 2, frame: goto.frame, path: goto.path + goto.path) }
        let goto = Goto(x: 1.5, y: -0.1, frame: "aruco_map \u{1F681}", path: [0.1, 1e16, -0.0])
        try await SwiftPairTests.withPair(serverRegistry: registry) { _, client, _ in
            let connection = client.connection
            // A frame whose kwargs do not decode is dropped; the next one arrives.
            try await connection.send("goto", kwargs: ["x": "one"])
            try await connection.send("goto", arguments: goto)
            try await connection.send("goto_async", arguments: goto)
            try await connection.send("goto_values", arguments: goto)
            try await connection.send("goto", kwargs: ["x": 2, "y": 3, "path": []])
            await typed.wait(timeout: .seconds(5)) { $0.count == 2 }
            await typedAsync.wait(timeout: .seconds(5)) { $0.count == 1 }
            await values.wait(timeout: .seconds(5)) { $0.count == 1 }
            #expect(typed.value == [goto, Goto(x: 2, y: 3, frame: nil, path: [])])
            #expect(typedAsync.value == [goto])
            #expect(values.value == [["x": 1.5, "y": -0.1, "frame": "aruco_map \u{1F681}", "path": [0.1, 1e16, .double(-0.0)]]])

            // The typed reply, read as a value and as a type.
            let value = try await connection.request("double", kwargs: ["x": 1, "y": 2, "path": [0.5]])
            #expect(value == ["x": 2.0, "y": 4.0, "path": [0.5, 0.5]])
            #expect(try await connection.request("double", arguments: goto, as: Goto.self) == Goto(x: 3, y: -0.2, frame: goto.frame, path: goto.path + goto.path))
            // The library's own requests still read their kwargs.
            #expect(try await connection.request("echo", arguments: goto, as: JSONValue.self)
                == ["args": [], "kwargs": ["x": 1.5, "y": -0.1, "frame": "aruco_map \u{1F681}", "path": [0.1, 1e16, .double(-0.0)]]])
        }
    }

    @Test("a typed broadcast is encoded once, with the same bytes as the tree's")
    func typedBroadcast() async throws {
        let goto = Goto(x: 0.1, y: 0.2, frame: nil, path: [])
        let direct = try MessagingServer.encodeAction("goto", arguments: .encoded(EncodedArguments(goto, of: "goto")))
        let tree = try MessagingServer.encodeAction(
            "goto", arguments: .values(args: [], kwargs: ["x": 0.1, "y": 0.2, "path": []]))
        #expect(direct == tree)
        #expect(throws: MessagingError.self) { try EncodedArguments(3, of: "goto") }
        #expect(throws: MessagingError.self) { try EncodedArguments(keywords: [1, 2], of: "goto") }
        #expect(try EncodedArguments([1, 2], of: "goto").isObject == false)
    }
}
