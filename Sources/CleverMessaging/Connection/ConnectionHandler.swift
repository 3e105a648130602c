import Logging
import NIOCore

/// The channel handler that binds one link to its ``Connection``: it attaches
/// the link when it comes up, hands decoded parts over, and detaches it when it
/// goes down. A decoding error closes this link only.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = FramePart

    let connection: Connection
    /// Where the body of the binary frame in progress goes (`nil`: discarded).
    private var receiver: FileReceiver?
    /// Whether a read batch is in progress (between the first `channelRead` and `channelReadComplete`).
    private var inReadBatch = false

    init(connection: Connection) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { connection.attach(context.channel) }
    }

    func channelActive(context: ChannelHandlerContext) {
        connection.attach(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        receiver?.abort(.connection(.connectionLost))
        receiver = nil
        connection.detach(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !inReadBatch {
            inReadBatch = true
            connection.readBatchStarted()
        }
        switch unwrapInboundIn(data) {
        case .frame(let frame):
            connection.receive(frame)
        case .binaryHead(let header):
            receiver = connection.beginBinary(header, channel: context.channel)
        case .binaryBody(let chunk):
            receiver?.write(chunk)
        case .binaryEnd:
            receiver?.finish()
            receiver = nil
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        connection.lastInbound.withLockedValue { $0 = now }
        if inReadBatch {
            inReadBatch = false
            connection.readBatchEnded()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        receiver?.abort(.connection(.connectionLost))
        receiver = nil
        connection.logger.warning("closing link after error: \(error)")
        context.close(promise: nil)
    }

    /// Adds the frame decoder and this handler to a channel's pipeline, with socket options.
    static func install(on channel: any Channel, connection: Connection) -> EventLoopFuture<Void> {
        SocketOptions.apply(to: channel, keepalive: connection.configuration.keepalive).flatMapThrowing {
            try channel.pipeline.syncOperations.addHandlers(
                ByteToMessageHandler(FrameDecoder(configuration: connection.configuration.codec)),
                ConnectionHandler(connection: connection)
            )
        }
    }
}

@available(*, unavailable)
extension ConnectionHandler: Sendable {}
