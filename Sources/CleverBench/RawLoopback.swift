import CleverMessaging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Plain NIO channels on loopback with no framing: the physical baselines of
/// the network benchmarks (what the same bytes cost without this library).
enum RawLoopback {
    /// A server that counts received bytes and, for every `requestSize` bytes
    /// consumed, writes `responseSize` bytes back (0: write nothing).
    final class CountingServerHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let requestSize: Int
        let response: ByteBuffer
        let totalExpected: Int
        let done: EventLoopPromise<Void>
        var received = 0
        var unanswered = 0

        init(requestSize: Int, responseSize: Int, totalExpected: Int, done: EventLoopPromise<Void>) {
            self.requestSize = requestSize
            self.response = ByteBuffer(repeating: UInt8(ascii: "r"), count: responseSize)
            self.totalExpected = totalExpected
            self.done = done
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data).readableBytes
            received += bytes
            guard response.readableBytes > 0 else {
                if received >= totalExpected { done.succeed() }
                return
            }
            unanswered += bytes
            var batch = context.channel.allocator.buffer(capacity: 0)
            while unanswered >= requestSize {
                unanswered -= requestSize
                batch.writeImmutableBuffer(response)
            }
            if batch.readableBytes > 0 { context.write(wrapOutboundOut(batch), promise: nil) }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }

    /// A client that completes a promise each time `responseSize` more bytes arrived.
    final class CountingClientHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        let responseSize: Int
        var received = 0
        var waiting: [(count: Int, promise: EventLoopPromise<Void>)] = []

        init(responseSize: Int) {
            self.responseSize = responseSize
        }

        /// Completes `promise` once `responses` more responses have arrived.
        func expect(_ responses: Int, _ promise: EventLoopPromise<Void>) {
            waiting.append((responses * responseSize, promise))
            settle()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytes
            settle()
        }

        private func settle() {
            while let first = waiting.first, received >= first.count {
                received -= first.count
                waiting.removeFirst()
                first.promise.succeed()
            }
        }
    }

    /// Completes `done` at the first byte received (the sink's "all received" reply).
    final class AnyReplyHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let done: EventLoopPromise<Void>

        init(done: EventLoopPromise<Void>) {
            self.done = done
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            done.succeed()
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.fail(ChannelError.eof)
        }
    }

    /// A raw server on 127.0.0.1 and a client connected to it.
    struct Pair {
        let server: any Channel
        let client: any Channel
        let clientHandler: NIOLoopBound<CountingClientHandler>
        let serverDonePromise: EventLoopPromise<Void>
        var serverDone: EventLoopFuture<Void> { serverDonePromise.futureResult }

        func close() async {
            try? await client.close()
            try? await server.close()
            serverDonePromise.succeed()  // a no-op when the server already saw everything
        }
    }

    /// Starts a pair on two event loop groups.
    static func makePair(
        serverGroup: any EventLoopGroup,
        clientGroup: any EventLoopGroup,
        requestSize: Int,
        responseSize: Int,
        totalExpected: Int
    ) async throws -> Pair {
        let done = serverGroup.any().makePromise(of: Void.self)
        let server = try await ServerBootstrap(group: serverGroup)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        CountingServerHandler(requestSize: requestSize, responseSize: responseSize, totalExpected: totalExpected, done: done)
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let box = NIOLockedValueBox<NIOLoopBound<CountingClientHandler>?>(nil)
        let client = try await ClientBootstrap(group: clientGroup)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = CountingClientHandler(responseSize: responseSize)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    box.withLockedValue { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                }
            }
            .connect(host: "127.0.0.1", port: server.localAddress!.port!).get()
        return Pair(server: server, client: client, clientHandler: box.withLockedValue { $0! }, serverDonePromise: done)
    }
}

extension RawLoopback {
    /// A plain server that only counts the bytes of its one connection.
    struct Sink {
        let channel: any Channel
        let port: Int
        /// Succeeds with the event loop of the connection once it is accepted.
        let accepted: EventLoopFuture<any EventLoop>
        /// Succeeds once `totalExpected` bytes arrived.
        let done: EventLoopFuture<Void>

        /// The connection's event loop, once a client connected.
        var connectedLoop: any EventLoop {
            get async throws { try await accepted.get() }
        }
    }

    /// Starts a sink on 127.0.0.1 that completes `done` after `totalExpected` bytes.
    static func makeSink(group: any EventLoopGroup, totalExpected: Int) async throws -> Sink {
        let done = group.any().makePromise(of: Void.self)
        let accepted = group.any().makePromise(of: (any EventLoop).self)
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                accepted.succeed(channel.eventLoop)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        CountingServerHandler(requestSize: 1, responseSize: 0, totalExpected: totalExpected, done: done)
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return Sink(channel: channel, port: channel.localAddress!.port!, accepted: accepted.futureResult, done: done.futureResult)
    }
}
