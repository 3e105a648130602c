import NIOCore
import Testing

@testable import CleverMessaging

/// A Swift ``MessagingServer`` with the Python reference-style peer as its client.
@Suite("Interop: Swift server, Python client", .timeLimit(.minutes(2)))
struct SwiftServerPythonClientTests {
    /// Starts a server on an ephemeral loopback port and a Python client connected to it.
    static func withPair(
        configuration: ConnectionConfiguration = .init(),
        _ body: (MessagingServer, PythonPeer, ActionRecorder, Connection) async throws -> Void,
        clientArguments: [String] = ["--sequential-ids"]
    ) async throws {
        let registry = makeTestRegistry()
        let recorder = ActionRecorder(recording: ["start", "test", "led_fill"], on: registry)
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: registry, configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.localAddress().port!
            let peer = try PythonPeer(["client", "--port", "\(port)"] + clientArguments)
            try await peer.waitFor("connected")
            let connection = try await server.waitForConnections(1)[0]
            do {
                try await body(server, peer, recorder, connection)
            } catch {
                await peer.quit()
                server.shutdown()
                throw error
            }
            await peer.quit()
            server.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("actions with args and kwargs go both ways")
    func actions() async throws {
        try await Self.withPair { _, peer, recorder, connection in
            peer.send(["cmd": "send", "action": "start", "args": [1, "two", 3.5, nil, true], "kwargs": ["time": "1700000000.5"]])
            let received = try await recorder.waitFor(count: 1)
            #expect(received[0] == .init(action: "start", args: [1, "two", 3.5, nil, true], kwargs: ["time": "1700000000.5"]))

            try await connection.send("led_fill", args: [255, 0, 128], kwargs: everyJSONKind)
            let event = try await peer.waitFor("action")[0]
            #expect(event["action"] == "led_fill")
            #expect(event["args"] == [255, 0, 128])
            #expect(event["kwargs"] == .object(everyJSONKind))
        }
    }

    @Test("Python requests every JSON kind from Swift and gets it back exactly")
    func pythonRequestsSwift() async throws {
        try await Self.withPair { _, peer, _, _ in
            peer.send(["cmd": "request", "value": "echo", "args": [.double(.nan), .bigInteger("-1234567890123456789012")], "kwargs": .object(everyJSONKind), "tag": "t1"])
            let response = try await peer.waitFor("response")[0]
            #expect(response["tag"] == "t1")
            #expect(response["value"] == ["args": [.double(.nan), .bigInteger("-1234567890123456789012")], "kwargs": .object(everyJSONKind)])
            #expect(response["request_id"]?.stringValue?.count == 4)
        }
    }

    @Test("Swift requests every JSON kind from Python and gets it back exactly")
    func swiftRequestsPython() async throws {
        try await Self.withPair { _, _, _, connection in
            let value = try await connection.request("echo", args: [1, 1.0, .bigInteger("99999999999999999999")], kwargs: everyJSONKind)
            #expect(value == ["args": [1, 1.0, .bigInteger("99999999999999999999")], "kwargs": .object(everyJSONKind)])
            #expect(value["args"]?[0] == .integer(1))
            #expect(value["args"]?[1] == .double(1.0))
            #expect(try await connection.request("id") == "pycopter")
        }
    }

    @Test("an unknown action is dropped and the connection kept")
    func unknownAction() async throws {
        try await Self.withPair { _, peer, _, connection in
            try await connection.send("no_such_action", args: [1])
            try await peer.waitFor("unknown_action") { $0["action"] == "no_such_action" }
            #expect(try await connection.request("id") == "pycopter")
        }
    }

    @Test("an unknown or failing request to Python times out cleanly: the reference sends no reply")
    func unknownRequestTimesOut() async throws {
        try await Self.withPair { _, peer, _, connection in
            for name in ["no_such_value", "fail"] {
                await #expect(throws: MessagingError.timedOut(requestedValue: name, requestID: name == "fail" ? "0002" : "0001", timeout: .milliseconds(300))) {
                    _ = try await connection.request(name, timeout: .milliseconds(300))
                }
            }
            #expect(connection.pendingRequestCount == 0)
            let requests = try await peer.waitFor("request", count: 2)
            // The error extension's key travels in the header; the reference ignores it.
            #expect(requests[0]["header_extra"]?[ExtensionHeader.capabilities] != nil)
            #expect(peer.events("unknown_request").count == 1)
            #expect(try await connection.request("id") == "pycopter")
        }
    }

    @Test("an unknown request from Python gets no reply (reference behaviour), connection kept")
    func pythonUnknownRequest() async throws {
        try await Self.withPair { _, peer, _, _ in
            peer.send(["cmd": "request", "value": "no_such_value", "tag": "lost"])
            peer.send(["cmd": "request", "value": "fail", "tag": "lost2"])
            peer.send(["cmd": "request", "value": "id", "tag": "ok"])
            let response = try await peer.waitFor("response")[0]
            #expect(response["tag"] == "ok")
            #expect(response["value"] == "swiftcopter")
            // A request sent after them is answered after them: once its answer is in, they had their turn.
            peer.send(["cmd": "request", "value": "id", "tag": "after"])
            let responses = try await peer.waitFor("response", count: 2)
            #expect(responses.map { $0["tag"] } == ["ok", "after"])
            #expect(peer.events("response").count == 2)
        }
    }

    @Test("1,000 pipelined requests each way: none lost, none misrouted")
    func pipelined() async throws {
        try await Self.withPair { _, peer, _, connection in
            // Swift -> Python
            let results = try await withThrowingTaskGroup(of: (Int, JSONValue).self) { group in
                for i in 0..<1000 {
                    group.addTask { (i, try await connection.request("echo", args: [.integer(i)], kwargs: ["n": .integer(i)])) }
                }
                var out: [Int: JSONValue] = [:]
                for try await (i, value) in group { out[i] = value }
                return out
            }
            #expect(results.count == 1000)
            for (i, value) in results {
                #expect(value == ["args": [.integer(i)], "kwargs": ["n": .integer(i)]])
            }
            // Python -> Swift
            for i in 0..<1000 {
                peer.send(["cmd": "request", "value": "echo", "args": [.integer(i)], "tag": .string("p\(i)")])
            }
            let responses = try await peer.waitFor("response", count: 1000)
            #expect(responses.count == 1000)
            for response in responses {
                let tag = response["tag"]!.stringValue!
                #expect(response["value"]?["args"] == [.integer(Int(tag.dropFirst())!)])
            }
        }
    }

    @Test("a server that keeps pausing for its replies still answers all of a Python peer's 1,000 requests")
    func backpressureWithPython() async throws {
        var configuration = ConnectionConfiguration()
        // Smaller than a few replies: the server stops reading this peer, and
        // starts again, over and over while the peer reads.
        configuration.maximumReplyBacklog = 1024
        let payload = JSONValue.string(String(repeating: "q", count: 300))
        try await Self.withPair(configuration: configuration) { _, peer, _, connection in
            for i in 0..<1000 {
                peer.send(["cmd": "request", "value": "echo", "args": [.integer(i), payload], "tag": .string("p\(i)")])
            }
            let responses = try await peer.waitFor("response", count: 1000)
            #expect(responses.count == 1000)
            for response in responses {
                let tag = response["tag"]!.stringValue!
                #expect(response["value"]?["args"] == [.integer(Int(tag.dropFirst())!), payload])
            }
            #expect(connection.state.withLockedValue { $0.outbound.replyPauses } > 0, "the server never paused: the test proves nothing")
        }
    }
}
