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
    @Test("links closed at once by the server: at most one attempt per first delay (250 ms)")
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
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(250))
        )
        let run = Task { try await client.run() }
        let clock = ContinuousClock()
        let start = clock.now
        // Real time: the test counts attempts per second of wall clock.
        try await Task.sleep(for: .seconds(1))
        let attempts = accepted.withLockedValue { $0 }
        let elapsed = clock.now - start
        client.shutdown()
        try await run.value
        try await server.close()
        // One attempt at the start, then one per 250 ms at the most (without the
        // spacing, a loopback client makes hundreds a second).
        let bound = Int(elapsed / .milliseconds(250)) + 2
        #expect(attempts >= 1)
        #expect(attempts <= bound, "\(attempts) attempts in \(elapsed)")
    }
}
