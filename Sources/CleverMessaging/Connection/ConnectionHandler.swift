import Logging
import NIOCore

/// The channel handler that binds one link to its ``Connection``: it attaches
/// the link when it comes up, hands decoded parts over, and detaches it when it
/// goes down. A decoding error closes this link only.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = FramePart

    let connection: Connection

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
        connection.detach(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.receive(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
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
