import CleverTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import CleverMessaging

/// A peer that asks faster than it reads its answers: the side that answers
/// stops reading instead of dropping replies, starts again once they are read,
/// and drops a link whose peer reads nothing at all.
@Suite("Connection: backpressure from replies", .timeLimit(.minutes(1)))
struct ReplyBackpressureTests {
    /// Requests sent by the raw peer, each with a 2 KiB argument echoed back:
    /// about 8 MB each way, more than the socket buffers hold (the peer's
    /// receive buffer is kept small, so that the kernel does not absorb it all).
    static let requestCount = 4_000
    static let payload = String(repeating: "p", count: 2048)

    /// A server whose limits are tiny next to the traffic: before backpressure,
    /// replies over `maximumQueuedBytes` were dropped (with a warning).
    static func serverConfiguration(stalledPeerTimeout: Duration?) -> ConnectionConfiguration {
        var configuration = ConnectionConfiguration()
        configuration.maximumQueuedBytes = 64 * 1024
        configuration.maximumReplyBacklog = 32 * 1024
        configuration.stalledPeerTimeout = stalledPeerTimeout
        configuration.pingInterval = nil
        configuration.keepalive.enabled = false
        return configuration
    }

    /// Counts the responses a raw peer reads, checking that they come in the order asked.
    final class ResponseCounter: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var decoder = FrameDecoder()
        var pending = ByteBuffer()
        var received = 0
        var misordered = 0
        let expected: Int
        let done: EventLoopPromise<Int>

        init(expected: Int, done: EventLoopPromise<Int>) {
            self.expected = expected
            self.done = done
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = unwrapInboundIn(data)
            // The decoder leaves a cut frame in the buffer for the next read.
            pending.writeBuffer(&chunk)
            do {
                while let part = try decoder.decode(buffer: &pending) {
                    guard case .frame(let frame) = part, frame.header.messageType == .response else { continue }
                    received += 1
                    if frame.header.requestID != .string(Connection.formatRequestID(received)) { misordered += 1 }
                    if received == expected { done.succeed(misordered) }
                }
            } catch {
                done.fail(error)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.fail(ChannelError.eof)
        }
    }

    /// Connects a raw peer that does not read until told to, and writes ``requestCount``
    /// echo requests (as a reference peer would: no extension key) without waiting.
    /// Its ``ResponseCounter`` completes `done` with the count of misordered responses.
    static func connectSilentPeer(
        port: Int,
        done: EventLoopPromise<Int>,
        group: any EventLoopGroup
    ) async throws -> (any Channel, EventLoopFuture<Void>) {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 64 * 1024)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ResponseCounter(expected: requestCount, done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        var writer = FrameWriter()
        var requests = ByteBuffer()
        for number in 1...requestCount {
            try writer.write(.request("echo", id: .string(Connection.formatRequestID(number)), args: [.string(payload)]), into: &requests)
        }
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(requests, promise: written)
        return (channel, written.futureResult)
    }

    /// Runs `body` with a server (see ``serverConfiguration(stalledPeerTimeout:)``)
    /// logging into `serverLog`, and a silent raw peer that wrote all its requests
    /// (``connectSilentPeer(port:done:group:)``): the server's events from before the
    /// peer connected, the peer's channel, the future of its writes, and `done`,
    /// its responses' count.
    static func withSilentPeer(
        stalledPeerTimeout: Duration?,
        serverLog: LogMessages = LogMessages(),
        _ body: (MessagingServer, AsyncStream<MessagingServer.Event>, any Channel, EventLoopFuture<Void>, EventLoopFuture<Int>) async throws -> Void
    ) async throws {
        // Server and peer on loops of their own, one thread each: the pace of the peer's reads and the
        // server's stall timer are what these tests are about, and the shared loops carry every other
        // suite's links in a parallel run.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = MessagingServer(
            host: "127.0.0.1", port: 0, registry: makeTestRegistry(),
            configuration: serverConfiguration(stalledPeerTimeout: stalledPeerTimeout),
            group: loops,
            logger: serverLog.logger("clever.server")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let done = loops.any().makePromise(of: Int.self)
            let port = try await server.localAddress().port!
            let links = server.events()
            let (raw, written) = try await connectSilentPeer(port: port, done: done, group: loops)
            do {
                try await body(server, links, raw, written, done.futureResult)
            } catch {
                try? await raw.close()
                server.shutdown()
                throw error
            }
            try? await raw.close()
            server.shutdown()
            try await group.waitForAll()
        }
        try await loops.shutdownGracefully()
    }

    /// How many times the server's log says it paused, and resumed, reading for replies.
    static func readingPauses(in lines: [String]) -> (paused: Int, resumed: Int) {
        (
            lines.count { $0.hasPrefix("replies wait for the peer") && $0.hasSuffix("reading paused") },
            lines.count { $0 == "replies caught up: reading resumed" }
        )
    }

    @Test("replies are never dropped: reading stops while they wait, and every one arrives in order")
    func noReplyDropped() async throws {
        let serverLog = LogMessages()
        try await Self.withSilentPeer(stalledPeerTimeout: nil, serverLog: serverLog) { server, _, raw, written, done in
            let serverSide = try await server.waitForConnections(1)[0]

            // The peer reads nothing: the server must stop reading it, with its
            // replies held to about the backlog limit (plus what one read batch made).
            // (The log line is written as reading pauses; the flag itself may already have
            // flipped back for a moment when the kernel took some replies, so it is not read here.)
            #expect(await serverLog.messages.wait { Self.readingPauses(in: $0).paused > 0 })
            let held = serverSide.state.withLockedValue { $0.outbound.replyBytesQueued + $0.outbound.replyBytesInFlight }
            #expect(held < 32 * 1024 + 2 * 1024 * 1024, "replies held while paused: \(held) bytes")

            // The peer starts reading: everything it asked for arrives, in order.
            try await raw.setOption(.autoRead, value: true).get()
            raw.read()
            #expect(try await done.get() == 0, "responses out of order")
            try await written.get()
            // Every request was read and answered: no pause comes after the last resume.
            #expect(await serverLog.messages.wait { Self.readingPauses(in: $0).paused == Self.readingPauses(in: $0).resumed })
            #expect(!serverSide.state.withLockedValue { $0.outbound.pausedForReplies })
        }
    }

    @Test("a peer that reads none of its replies loses its link after stalledPeerTimeout")
    func stalledPeerDropped() async throws {
        try await Self.withSilentPeer(stalledPeerTimeout: .milliseconds(300)) { server, links, raw, _, _ in
            // The suite's time limit fails the test if the link is never dropped.
            try await raw.closeFuture.get()
            #expect(await firstEvent(in: links) { if case .disconnected = $0 { true } else { false } } != nil)
            #expect(server.connections.isEmpty)
        }
    }

    @Test("a peer that reads its replies slowly keeps its link, however long the server's writes take")
    func slowReaderKeepsLink() async throws {
        // The timeout is long next to the reads' pace, so that a loaded machine
        // (a late timer, a busy loop) does not make the peer look stalled.
        try await Self.withSilentPeer(stalledPeerTimeout: .seconds(5)) { server, _, raw, written, done in
            let serverSide = try await server.waitForConnections(1)[0]
            // One `read()` every 10 ms, on the peer's event loop: a few MB/s,
            // slower than the server writes but far above the stall threshold.
            let sawPause = NIOLockedValueBox(false)
            let reader = raw.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(10), delay: .milliseconds(10)) { _ in
                if serverSide.state.withLockedValue({ $0.outbound.pausedForReplies }) { sawPause.withLockedValue { $0 = true } }
                raw.read()
            }
            defer { reader.cancel() }
            #expect(try await done.get() == 0, "responses out of order")
            #expect(sawPause.withLockedValue { $0 }, "the server never had to wait for this peer: the test proves nothing")
            #expect(raw.isActive, "a slow reader must keep its link")
            #expect(server.connections.count == 1)
            try await written.get()
        }
    }

    @Test("the read gate reads again only when its last reason is lifted")
    func readGateReasons() async throws {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: listener.localAddress!.port!).get()
        let gate = ReadGate(channel: channel)
        func autoRead() async throws -> Bool {
            // Runs after the gate's option changes, which were queued on the loop first.
            try await channel.eventLoop.submit {}.get()
            return try await channel.getOption(.autoRead).get()
        }
        gate.close(for: .fileBacklog)
        gate.close(for: .replyBacklog)
        #expect(try await autoRead() == false)
        gate.open(for: .fileBacklog)
        #expect(try await autoRead() == false, "the reply backlog still holds it")
        #expect(gate.isClosed(for: .replyBacklog))
        gate.open(for: .fileBacklog)
        #expect(try await autoRead() == false, "lifting a reason twice changes nothing")
        gate.open(for: .replyBacklog)
        #expect(try await autoRead() == true)

        // Reasons set and cleared from many threads at once, in any order: once
        // the last call is applied, the channel reads exactly when none holds.
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    let reason: ReadGate.Reason = worker % 2 == 0 ? .replyBacklog : .handlerBacklog
                    for round in 0..<500 { round % 2 == 0 ? gate.close(for: reason) : gate.open(for: reason) }
                }
            }
        }
        #expect(try await autoRead() == true, "every worker ended by lifting its reason")
        gate.hold(.handlerBacklog, true)
        gate.apply()
        #expect(try await autoRead() == false)
        try await channel.close()
        try await listener.close()
    }

    @Test("flushed() waits for what is queued, returns at once when nothing is, and fails once closed")
    func flushed() async throws {
        try await SwiftPairTests.withPair { _, client, _ in
            try await client.connection.flushed()
            for i in 0..<1000 { try client.connection.enqueueMessage("test", args: [.integer(i)]) }
            try await client.connection.flushed()
            let queued = client.connection.state.withLockedValue { $0.outbound.queuedBytes }
            #expect(queued == 0)
            await client.connection.close()
            await #expect(throws: MessagingError.closed) { try await client.connection.flushed() }
        }
    }
}
