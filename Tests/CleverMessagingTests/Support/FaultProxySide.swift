import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The handler on each of a pair's channels: what it reads goes to one
/// forwarder; its writability and end concern the other.
final class FaultProxySide: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let reading: FaultProxyForwarder
    private let writing: FaultProxyForwarder

    init(reading: FaultProxyForwarder, writing: FaultProxyForwarder) {
        self.reading = reading
        self.writing = writing
    }

    func channelActive(context: ChannelHandlerContext) {
        // An accepted channel is registered, and so can read, only after its pair is wired.
        reading.readIfRoom()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading.received(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading.readIfRoom()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writing.pump()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        reading.sourceClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension FaultProxySide: Sendable {}
