import ArgumentParser
import CleverMessaging
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The physical baseline of `bench swarm`: the same fan-out over plain TCP,
/// with no framing, no decoding and no handlers.
///
/// A station-side server holds N plain connections from a `raw-peers` child
/// process. Broadcast: the same frame bytes written to every connection, until
/// the child reports that each connection received them. Request-all: request
/// bytes written to every connection, each peer answering with reply-sized
/// bytes, until every answer is back.
final class RawFanOutServer: Sendable {
    let channel: any Channel
    private let state: NIOLockedValueBox<State>

    private struct State {
        var children: [any Channel] = []
        var replies = 0
        var expectedReplies = 0
        var replySize = 0
        var repliesDone: EventLoopPromise<Void>?
    }

    /// Counts reply bytes on one connection; one reply when `replySize` bytes arrived.
    private final class ReplyCounter: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let server: RawFanOutServer
        var received = 0

        init(server: RawFanOutServer) {
            self.server = server
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytes
            let size = server.state.withLockedValue { $0.replySize }
            if size > 0, received >= size {
                received -= size
                server.replied()
            }
        }
    }

    private init(channel: any Channel, state: NIOLockedValueBox<State>) {
        self.channel = channel
        self.state = state
    }

    /// Listens on 127.0.0.1 (any port).
    static func start(group: any EventLoopGroup) async throws -> RawFanOutServer {
        let state = NIOLockedValueBox(State())
        let box = NIOLockedValueBox<RawFanOutServer?>(nil)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let server = box.withLockedValue { $0! }
                    try child.pipeline.syncOperations.addHandler(ReplyCounter(server: server))
                    state.withLockedValue { $0.children.append(child) }
                }
            }
            .bind(to: SocketAddress(ipAddress: "127.0.0.1", port: 0))
            .get()
        let server = RawFanOutServer(channel: channel, state: state)
        box.withLockedValue { $0 = server }
        return server
    }

    /// How many peers are connected.
    var connectedCount: Int { state.withLockedValue { $0.children.count } }

    /// Writes `bytes` to every connection, one flush task per event loop and chunk (as ``MessagingServer/broadcast(_:args:kwargs:)`` does).
    func writeToAll(_ bytes: ByteBuffer) {
        let children = state.withLockedValue { $0.children }
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, channels: [any Channel])] = [:]
        for child in children {
            byLoop[ObjectIdentifier(child.eventLoop), default: (child.eventLoop, [])].channels.append(child)
        }
        for (loop, channels) in byLoop.values {
            for start in stride(from: 0, to: channels.count, by: 256) {
                let chunk = Array(channels[start..<min(channels.count, start + 256)])
                loop.execute {
                    for channel in chunk { channel.writeAndFlush(bytes, promise: nil) }
                }
            }
        }
    }

    /// Writes `request` to every connection and waits until each answered with `replySize` bytes.
    func requestAll(_ request: ByteBuffer, replySize: Int) async throws {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        state.withLockedValue { s in
            s.replies = 0
            s.expectedReplies = s.children.count
            s.replySize = replySize
            s.repliesDone = promise
        }
        writeToAll(request)
        try await promise.futureResult.get()
    }

    private func replied() {
        let done = state.withLockedValue { s -> EventLoopPromise<Void>? in
            s.replies += 1
            guard s.replies == s.expectedReplies else { return nil }
            defer { s.repliesDone = nil }
            return s.repliesDone
        }
        done?.succeed()
    }

    /// Closes every connection and the listener.
    func close() async {
        let children = state.withLockedValue { s in
            defer { s.children = [] }
            return s.children
        }
        for child in children { child.close(promise: nil) }
        try? await channel.close()
    }
}

extension Bench {
    /// `clever-msg bench raw-peers`: the other end of `bench swarm`'s raw baseline (hidden).
    struct RawPeers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "raw-peers",
            abstract: "N plain TCP peers for bench swarm's baseline (used by bench swarm).",
            shouldDisplay: false
        )

        @Option(help: "The raw server, HOST:PORT.")
        var server: String

        @Option(help: "How many connections.")
        var count: Int

        @Option(help: "Bytes of the broadcast frame.")
        var frameSize: Int

        @Option(help: "Bytes of the request that follows it.")
        var requestSize: Int

        @Option(help: "Bytes each peer answers the request with.")
        var replySize: Int

        /// Counts what every connection received; prints when all have the frame.
        final class Tally: Sendable {
            private let counts = NIOLockedValueBox((connected: 0, framed: 0))
            let total: Int
            let out = LinePrinter(json: true)

            init(total: Int) {
                self.total = total
            }

            func connected() {
                if counts.withLockedValue({ $0.connected += 1; return $0.connected }) == total {
                    out.print(["raw_connected": .integer(total)], text: "")
                }
            }

            /// Prints the running count each time every peer has one more frame.
            func framed() {
                let framed = counts.withLockedValue { $0.framed += 1; return $0.framed }
                if framed % total == 0 {
                    out.print(["raw_broadcast": .integer(framed)], text: "")
                }
            }
        }

        /// One peer: notes the frame, answers the request.
        final class Peer: ChannelInboundHandler {
            typealias InboundIn = ByteBuffer
            typealias OutboundOut = ByteBuffer
            let tally: Tally
            let frameSize: Int
            let requestSize: Int
            let reply: ByteBuffer
            var received = 0
            var framed = false

            init(tally: Tally, frameSize: Int, requestSize: Int, reply: ByteBuffer) {
                self.tally = tally
                self.frameSize = frameSize
                self.requestSize = requestSize
                self.reply = reply
            }

            func channelActive(context: ChannelHandlerContext) {
                tally.connected()
                context.fireChannelActive()
            }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                // Each round is one frame and then one request.
                received += unwrapInboundIn(data).readableBytes
                while true {
                    if !framed, received >= frameSize {
                        framed = true
                        tally.framed()
                    }
                    guard framed, received >= frameSize + requestSize else { break }
                    context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
                    received -= frameSize + requestSize
                    framed = false
                }
            }
        }

        func run() async throws {
            let (host, port) = try parseHostPort(server, defaultPort: 25000)
            _ = try FileLimit.raiseToHard()
            let tally = Tally(total: count)
            let reply = ByteBuffer(repeating: UInt8(ascii: "r"), count: replySize)
            let address = try SocketAddress(ipAddress: host, port: port)
            let (frameSize, requestSize) = (self.frameSize, self.requestSize)
            @Sendable func connect() async throws -> any Channel {
                try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                Peer(tally: tally, frameSize: frameSize, requestSize: requestSize, reply: reply)
                            )
                        }
                    }
                    .connect(to: address)
                    .get()
            }
            // At most 256 connects in flight, as the swarm paces its drones.
            var channels: [any Channel] = []
            channels.reserveCapacity(count)
            try await withThrowingTaskGroup(of: (any Channel).self) { group in
                var started = 0
                while started < min(256, count) {
                    group.addTask { try await connect() }
                    started += 1
                }
                while let channel = try await group.next() {
                    channels.append(channel)
                    if started < count {
                        group.addTask { try await connect() }
                        started += 1
                    }
                }
            }
            for await line in StandardInput.lines() where line == "quit" { break }
            for channel in channels { channel.close(promise: nil) }
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            tally.out.print(["peak_rss": .integer(usage.ru_maxrss * 1024)], text: "")
        }
    }
}
