import NIOCore

/// The first handler of a `/metrics` link: closes it when the peer sends more
/// than ``limit`` bytes in all (a scrape is one short request; the request
/// line and headers are bounded here, before the HTTP parser buffers them),
/// or when it has not finished its request within ``timeout``.
final class RequestSizeLimit: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The most bytes a link may send.
    let limit: Int
    /// How long a link may stay open.
    let timeout: TimeAmount
    private var received = 0
    private var timer: Scheduled<Void>?

    init(limit: Int = 16 * 1024, timeout: TimeAmount = .seconds(10)) {
        self.limit = limit
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard received <= limit else { return }
        received += unwrapInboundIn(data).readableBytes
        guard received <= limit else {
            // Written below the HTTP encoder: straight to the socket.
            var answer = context.channel.allocator.buffer(capacity: 96)
            answer.writeString("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension RequestSizeLimit: Sendable {}
