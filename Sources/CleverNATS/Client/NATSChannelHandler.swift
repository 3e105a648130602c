import NIOCore
import NIOSSL

/// The last handler of a NATS channel: passes decoded operations, errors and the
/// channel's end to the ``NATSConnectionCore`` that owns the channel.
final class NATSChannelHandler: ChannelInboundHandler {
    typealias InboundIn = NATSServerOperation

    private let core: NATSConnectionCore

    init(core: NATSConnectionCore) {
        self.core = core
    }

    func channelActive(context: ChannelHandlerContext) {
        core.channelActive(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        core.received(unwrapInboundIn(data), on: context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.channelInactive(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let natsError: NATSError
        switch error {
        case let error as NATSError: natsError = error
        case let error as NIOSSLError: natsError = .tlsFailed(reason: "\(error)")
        case let error as BoringSSLError: natsError = .tlsFailed(reason: "\(error)")
        default: natsError = .connectFailed(reason: "\(error)")
        }
        core.channelFailed(natsError, on: context.channel)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension NATSChannelHandler: Sendable {}
