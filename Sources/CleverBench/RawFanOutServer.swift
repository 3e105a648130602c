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
