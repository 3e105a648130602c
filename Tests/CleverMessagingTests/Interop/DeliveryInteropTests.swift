import CleverMessaging
import NIOCore
import Testing

/// Acknowledged delivery toward the Python reference-style peer: the wire is
/// unchanged (no delivery keys, no hello, no acknowledgement frames) and
/// receipts complete on write.
@Suite("Interop: acknowledged delivery toward a reference peer", .timeLimit(.minutes(2)))
struct DeliveryInteropTests {
    /// What the reference peer saw of this library's extensions: the marker only.
    static let markerOnly: JSONValue = ["x-clever": 1]

    @Test("Swift client, Python server: no hello, actions carry the marker only, receipts say written")
    func swiftClientPythonServer() async throws {
        try await PythonServerSwiftClientTests.withPair { peer, client, _ in
            let connection = client.connection
            #expect(!connection.deliversAcknowledged)
            let receipt = try await connection.send("start", args: [1], kwargs: ["time": "1"])
            #expect(receipt.guarantee == .written)
            #expect(try await receipt.delivered() == .written)
            let action = try await peer.waitFor("action")[0]
            #expect(action["header_extra"] == Self.markerOnly)
            #expect(peer.events.allSatisfy { $0["event"] != "request" && $0["event"] != "unknown_request" && $0["event"] != "unknown_action" })
            #expect(connection.deliveryStatistics == DeliveryStatistics())
        }
    }

    @Test("Swift server, Python client: actions carry the marker only, receipts say written, no acknowledgement frames")
    func swiftServerPythonClient() async throws {
        try await SwiftServerPythonClientTests.withPair { _, peer, recorder, connection in
            peer.send(["cmd": "send", "action": "start", "args": [1], "kwargs": [:]])
            _ = try await recorder.waitFor(count: 1)
            let receipt = try await connection.send("led_fill", args: [255, 0, 128])
            #expect(receipt.guarantee == .written)
            #expect(try await receipt.delivered() == .written)
            let action = try await peer.waitFor("action")[0]
            #expect(action["header_extra"] == Self.markerOnly)
            #expect(peer.events.allSatisfy { $0["event"] != "unknown_action" && $0["event"] != "unexpected_response" })
            #expect(!connection.deliversAcknowledged)
        }
    }
}
