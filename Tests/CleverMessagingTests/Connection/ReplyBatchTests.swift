import CleverTestSupport
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// Replies made while one read batch is handled go out whole and in order
/// with the reply backlog's pause kept; many requests in flight, beside
/// one-way frames; typed requests on their continuation.
@Suite("Connection: replies of a read batch, requests in flight", .timeLimit(.minutes(1)))
struct ReplyBatchTests {
    /// Holds the writes that reach it until released (a peer that reads nothing yet).
    final class HeldWrites: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var holding = true
        var held: [(NIOAny, EventLoopPromise<Void>?)] = []
        var context: ChannelHandlerContext?

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if holding { held.append((data, promise)) } else { context.write(data, promise: promise) }
        }

        func flush(context: ChannelHandlerContext) {
            if !holding { context.flush() }
        }

        /// Lets every held write through, and all later ones.
        func release() {
            holding = false
            guard let context else { return }
            for (data, promise) in held { context.write(data, promise: promise) }
            held = []
            context.flush()
        }
    }

    /// A server's side of a link on an `EmbeddedChannel`, answering ``makeTestRegistry()``'s requests.
    struct Server {
        let channel = EmbeddedChannel()
        let connection: Connection
        let writes = HeldWrites()

        init(maximumReplyBacklog: Int? = nil, holdWrites: Bool = false, logger: Logger = Logger(label: "test")) throws {
            var configuration = ConnectionConfiguration()
            configuration.pingInterval = nil
            if let maximumReplyBacklog { configuration.maximumReplyBacklog = maximumReplyBacklog }
            connection = Connection(eventLoop: channel.eventLoop, registry: makeTestRegistry(), configuration: configuration, logger: logger)
            if holdWrites { try channel.pipeline.syncOperations.addHandler(writes) }
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        /// `count` echo requests (ids 1 through `count`, each with its number as argument) in one read.
        func readRequests(_ count: Int, endBatch: Bool = true) throws {
            var writer = FrameWriter()
            var bytes = ByteBuffer()
            for number in 1...count {
                try writer.write(.request("echo", id: .string(RequestID.format(number)), args: [.integer(number)]), into: &bytes)
            }
            // (`writeInbound` would end the read batch too.)
            channel.pipeline.fireChannelRead(bytes)
            if endBatch { channel.pipeline.fireChannelReadComplete() }
        }

        /// The frames written so far, decoded (a cut frame fails the test).
        func writtenFrames() throws -> [Frame] {
            var bytes = ByteBuffer()
            while var chunk = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&chunk) }
            var decoder = FrameDecoder()
            var frames: [Frame] = []
            while let part = try decoder.decode(buffer: &bytes) {
                if case .frame(let frame) = part { frames.append(frame) }
            }
            #expect(bytes.readableBytes == 0, "a cut frame was written")
            return frames
        }
    }

    @Test("replies made in one read batch go out at its end, whole and in the order asked")
    func batchInOrder() throws {
        let server = try Server()
        try server.readRequests(50, endBatch: false)
        // Nothing is written before the batch ends: its replies go out together.
        #expect(try server.channel.readOutbound(as: ByteBuffer.self) == nil)
        server.channel.pipeline.fireChannelReadComplete()
        let frames = try server.writtenFrames().filter { $0.header.messageType == .response }
        #expect(frames.count == 50)
        for (index, frame) in frames.enumerated() {
            #expect(frame.header.requestID == .string(RequestID.format(index + 1)))
            #expect(frame.content.jsonValue?["value"] == ["args": [.integer(index + 1)], "kwargs": [:]])
        }
        // The next batch's replies go out just the same.
        try server.readRequests(3)
        #expect(try server.writtenFrames().count { $0.header.messageType == .response } == 3)
    }

    @Test("a batch's replies past the backlog limit stop reading until they are written")
    func backlogPauses() throws {
        let log = LogMessages()
        let server = try Server(maximumReplyBacklog: 1024, holdWrites: true, logger: log.logger())
        try server.readRequests(40)
        let paused = server.connection.state.withLockedValue { s in
            (s.outbound.pausedForReplies, s.outbound.replyPauses, s.readGate?.isClosed(for: .replyBacklog) ?? false)
        }
        #expect(paused == (true, 1, true))
        // The peer reads its replies: reading starts again, and every reply arrives.
        server.writes.release()
        let resumed = server.connection.state.withLockedValue { s in
            (s.outbound.pausedForReplies, s.readGate?.isClosed(for: .replyBacklog) ?? true)
        }
        #expect(resumed == (false, false))
        let lines = log.messages.update { $0 }
        #expect(lines.count { $0.hasSuffix("reading paused") } == 1)
        #expect(lines.count { $0 == "replies caught up: reading resumed" } == 1)
        let frames = try server.writtenFrames().filter { $0.header.messageType == .response }
        #expect(frames.map(\.header.requestID) == (1...40).map { .string(RequestID.format($0)) })
    }

    // MARK: - Over a link

    /// Without pings (a link's own requests, such as its session's hello, may still wait).
    static var quiet: ConnectionConfiguration {
        var configuration = ConnectionConfiguration()
        configuration.pingInterval = nil
        return configuration
    }

    @Test("a thousand requests in flight are all answered, none lost or misrouted")
    func thousandInFlight() async throws {
        try await SwiftPairTests.withPair(configuration: Self.quiet) { (_, client, _) async throws in
            let count = 1000
            let tally = Watched((answered: 0, misrouted: 0))
            for i in 0..<count {
                try client.connection.getResponse("echo", requestArgs: [.integer(i)], timeout: .seconds(30), onError: { _ in
                    tally.update { $0.misrouted += 1 }
                }) { _, value, _, _ in
                    let routed = value == ["args": [.integer(i)], "kwargs": [:]]
                    tally.update { t in
                        t.answered += 1
                        if !routed { t.misrouted += 1 }
                    }
                }
            }
            #expect(await tally.wait { $0.answered + $0.misrouted >= count })
            let (answered, misrouted) = tally.update { ($0.answered, $0.misrouted) }
            #expect(answered == count)
            #expect(misrouted == 0)
        }
    }

    @Test("requests answered while the server sends one-way frames from another thread: every frame arrives whole")
    func repliesBesideOneWayFrames() async throws {
        try await SwiftPairTests.withPair(configuration: Self.quiet) { (_, client, serverSide) async throws in
            let notes = Watched<[Int]>([])
            let registry = makeTestRegistry()
            registry.onAction("note") { _, args, _ in
                if case .integer(let n)? = args.first { notes.update { $0.append(n) } }
            }
            client.connection.registry = registry
            let count = 500
            // The server's task sends actions while the client's requests are answered on its event loop.
            let sender = Task {
                for n in 0..<count { try serverSide.enqueueMessage("note", args: [.integer(n)]) }
                try await serverSide.flushed()
            }
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<count {
                    group.addTask {
                        try await client.connection.request("echo", args: [.integer(i)]) == ["args": [.integer(i)], "kwargs": [:]]
                    }
                }
                for try await routed in group { #expect(routed) }
            }
            try await sender.value
            #expect(await notes.wait { $0.count == count })
            // One-way frames keep their own order.
            #expect(notes.update { $0 } == Array(0..<count))
        }
    }

    // MARK: - Typed replies on a continuation

    struct Echo: Decodable, Equatable {
        var args: [Int]
        var kwargs: [String: String]
    }

    @Test("a typed request suspends on its continuation: success, and the peer's error")
    func typedContinuation() async throws {
        try await SwiftPairTests.withPair(configuration: Self.quiet) { (_, client, _) async throws in
            let connection = client.connection
            #expect(try await connection.request("echo", arguments: [1, 2], as: Echo.self) == Echo(args: [1, 2], kwargs: [:]))
            // A JSONValue reply through the typed entry point takes the plain continuation.
            #expect(try await connection.request("echo", arguments: ["k": "v"], as: JSONValue.self) == ["args": [], "kwargs": ["k": "v"]])
            #expect(connection.typedReplies.decodedFromText == 1)
            do throws(MessagingError) {
                _ = try await connection.request("missing", arguments: [1], as: Echo.self)
                Issue.record("an unknown request was answered")
            } catch {
                guard case .remote(let remote) = error else {
                    Issue.record("not the peer's error: \(error)")
                    return
                }
                #expect(remote.code == RemoteError.Code.unknownRequest)
            }
            #expect(connection.typedReplies.waiting == 0)
        }
    }

    @Test("a typed request times out, and a cancelled one fails with .cancelled, leaving nothing waiting")
    func typedTimeoutAndCancel() async throws {
        try await SwiftPairTests.withPair(configuration: Self.quiet) { (_, client, _) async throws in
            let connection = client.connection
            let late = newSlowTag()
            do throws(MessagingError) {
                _ = try await connection.request("slow", arguments: ["tag": late], as: Echo.self, timeout: .milliseconds(50))
                Issue.record("a held request was answered")
            } catch {
                guard case .timedOut(let name, _, _) = error else {
                    Issue.record("not a timeout: \(error)")
                    return
                }
                #expect(name == "slow")
            }
            #expect(connection.typedReplies.waiting == 0)
            releaseSlowHandler(late)

            let tag = newSlowTag()
            let task = Task { try await connection.request("slow", arguments: ["tag": tag], as: Echo.self) }
            #expect(await slowHandlerTags.wait { $0.started.contains(tag) })
            task.cancel()
            await #expect(throws: MessagingError.cancelled) { _ = try await task.value }
            #expect(connection.typedReplies.waiting == 0)
            releaseSlowHandler(tag)
            // The link still answers.
            #expect(try await connection.request("echo", arguments: [3], as: Echo.self) == Echo(args: [3], kwargs: [:]))
        }
    }
}
