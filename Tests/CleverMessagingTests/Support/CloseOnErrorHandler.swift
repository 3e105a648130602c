import NIOCore

@testable import CleverMessaging

/// Logs what reaches the end of the pipeline and closes the channel on an error,
/// as a connection does.
final class CloseOnErrorHandler: ChannelInboundHandler {
    typealias InboundIn = FramePart
    var parts: [FramePart] = []
    var errors: [any Error] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        parts.append(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
        context.close(promise: nil)
    }
}
