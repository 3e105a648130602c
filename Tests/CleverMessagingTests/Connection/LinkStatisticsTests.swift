import CleverMessaging
import NIOCore
import NIOEmbedded
import Testing

/// ``Connection/linkStatistics()``: the kernel's view of a link, on demand.
@Suite("Connection: link statistics", .timeLimit(.minutes(1)))
struct LinkStatisticsTests {
    @Test("a loopback link reports its bytes both ways and a round-trip time; both sides agree on the bytes")
    func loopbackLink() async throws {
        try await SwiftPairTests.withPair { _, client, serverSide in
            let payload = JSONValue.string(String(repeating: "x", count: 10_000))
            _ = try await client.connection.request("echo", args: [payload], timeout: .seconds(5))
            let clientSide = try #require(await client.connection.linkStatistics())
            let server = try #require(await serverSide.linkStatistics())
            #expect(clientSide.bytesSent >= 10_000)
            #expect(clientSide.bytesReceived >= 10_000)
            #expect(clientSide.roundTrip > .zero)
            #expect(clientSide.roundTrip < .seconds(1))
            // What one side's peer acknowledged the other side received (counted a moment apart: at most more).
            #expect(server.bytesReceived >= clientSide.bytesSent)
            #expect(clientSide.retransmissions == 0)
        }
    }

    @Test("no link, no statistics")
    func noLink() async throws {
        let connection = Connection(eventLoop: EmbeddedEventLoop(), registry: HandlerRegistry())
        #expect(await connection.linkStatistics() == nil)
    }
}
