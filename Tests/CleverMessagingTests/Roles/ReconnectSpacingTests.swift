import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import CleverMessaging

/// A client whose links are closed as soon as they come up (a full server, or a
/// ground station refusing a duplicate drone id) tries again once per policy
/// delay, not in a tight loop.
@Suite("Client: reconnect spacing", .timeLimit(.minutes(1)))
struct ReconnectSpacingTests {
    @Test("links closed at once by the server: at most one attempt per first delay (250 ms), then longer waits")
    func closedAtOnce() async throws {
        let accepted = NIOLockedValueBox(0)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                accepted.withLockedValue { $0 += 1 }
                channel.close(promise: nil)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let client = MessagingClient(
            host: "127.0.0.1", port: server.localAddress!.port!, registry: HandlerRegistry(),
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(250), maximumDelay: .milliseconds(500))
        )
        let log = ClientEventLog(client)
        let run = Task { try await client.run() }
        // Three attempts after the first, each stamped as the client published it.
        let came = await log.wait(for: 4) { $0.isConnecting }
        client.shutdown()
        try await run.value
        try await server.close()
        #expect(came)
        #expect(accepted.withLockedValue { $0 } >= 3)
        // From a link's coming up to the next attempt: the first delay at least (without
        // the spacing, a loopback client makes hundreds a second); the server ending links
        // in a row doubles it from the second on, up to the maximum (DisplacementBackoff).
        let waits = log.waits(from: \.isConnected, to: \.isConnecting)
        let least: [Duration] = [.milliseconds(250), .milliseconds(500), .milliseconds(500)]
        #expect(waits.count >= least.count, "\(waits)")
        for (wait, least) in zip(waits, least) {
            #expect(wait >= least - .milliseconds(1), "waits \(waits)")
        }
    }
}
