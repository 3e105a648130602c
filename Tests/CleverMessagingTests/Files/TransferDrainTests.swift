import NIOCore
import NIOPosix
import Testing

@testable import CleverMessaging

/// The wait for a pushed body to drain from the kernel's buffers, on a real
/// loopback link: it ends when the peer's TCP has every byte, or as soon as the
/// peer answers the transfer (which it can only do once it has every byte).
@Suite("Files: the drain wait after a body", .timeLimit(.minutes(1)))
struct TransferDrainTests {
    /// A link to a peer that reads nothing, with more bytes written than its small
    /// receive buffer takes (some stay unacknowledged in this side's send queue),
    /// and a guard watching it with `stallTimeout`.
    static func withBlockedPeer(stallTimeout: Duration = .seconds(600), _ body: (TransferStallGuard) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await ServerBootstrap(group: group)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.socketOption(.so_rcvbuf), value: 4096)
            .bind(host: "127.0.0.1", port: 0).get()
        let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: listener.localAddress!.port!).get()
        var bytes = channel.allocator.buffer(capacity: 8 << 20)
        bytes.writeRepeatingByte(7, count: 8 << 20)
        channel.writeAndFlush(bytes, promise: nil)
        var configuration = ConnectionConfiguration()
        configuration.transferStallTimeout = stallTimeout
        let connection = Connection(eventLoop: channel.eventLoop, registry: HandlerRegistry(), configuration: configuration)
        let watch = TransferStallGuard.start(on: channel, for: connection)
        try await body(watch)
        watch.stop()
        try await channel.close()
        try await listener.close()
        try await group.shutdownGracefully()
    }

    @Test("an answer from the peer ends the wait though its TCP has not acknowledged every byte")
    func answerEndsTheWait() async throws {
        try await Self.withBlockedPeer { watch in
            let answer = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: JSONValue.self)
            async let drained: Void = watch.waitDrained(orUntil: answer.futureResult)
            // Without the answer the wait would last until the stall timeout: the peer never reads.
            answer.succeed(.string("ok"))
            try await drained
            #expect(watch.stall == nil)
        }
    }

    @Test("a failed answer ends the wait too; the caller's own wait for the answer reports the failure")
    func failedAnswerEndsTheWait() async throws {
        try await Self.withBlockedPeer { watch in
            let answer = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: JSONValue.self)
            answer.fail(MessagingError.connectionLost)
            try await watch.waitDrained(orUntil: answer.futureResult)
            await #expect(throws: MessagingError.connectionLost) { try await answer.futureResult.get() }
        }
    }

    @Test("without an answer, a peer that reads nothing stalls the transfer after the stall timeout")
    func noAnswerStalls() async throws {
        try await Self.withBlockedPeer(stallTimeout: .milliseconds(300)) { watch in
            await #expect(throws: MessagingError.self) { try await watch.waitDrained(orUntil: Optional<EventLoopFuture<JSONValue>>.none) }
            #expect(watch.stall != nil)
        }
    }
}
