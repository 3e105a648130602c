import NIOCore

/// Tells the server when an accepted link is up and when it is down, from
/// the link's own pipeline, on its event loop: no future, no task and no
/// hop to another thread per link. Sits behind the connection's handler,
/// which attaches the link before passing `channelActive` on.
final class LinkActivation: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// What the server does when the link comes up and when it goes down.
    struct Callbacks {
        /// The link is up (it is active).
        var up: () -> Void
        /// The link is down; `wasUp` tells whether ``up`` ran before.
        var down: (_ wasUp: Bool) -> Void
    }

    private enum Phase {
        case waiting
        case up
        case down
    }

    private let callbacks: Callbacks
    private var phase = Phase.waiting

    init(_ callbacks: Callbacks) {
        self.callbacks = callbacks
    }

    private func comeUp() {
        guard phase == .waiting else { return }
        phase = .up
        callbacks.up()
    }

    private func goDown() {
        let wasUp: Bool
        switch phase {
        case .down: return
        case .up: wasUp = true
        case .waiting: wasUp = false
        }
        phase = .down
        callbacks.down(wasUp)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { comeUp() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        goDown()
    }

    func channelActive(context: ChannelHandlerContext) {
        comeUp()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        goDown()
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension LinkActivation: Sendable {}
