import NIOCore

/// Tells an accepted link's task when the link is up: the server's accepting
/// loop may receive a channel before it is registered and active, and the
/// link's ``Connection`` is attached only then. Sits behind the connection's
/// handler, which attaches the link before passing `channelActive` on.
final class LinkActivation: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// `true` once the link is active; `false` when it closed (or the handler
    /// went) before it ever was.
    private let promise: EventLoopPromise<Bool>
    private var settled = false

    init(_ promise: EventLoopPromise<Bool>) {
        self.promise = promise
    }

    private func settle(_ active: Bool) {
        guard !settled else { return }
        settled = true
        promise.succeed(active)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { settle(true) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        settle(false)
    }

    func channelActive(context: ChannelHandlerContext) {
        settle(true)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        settle(false)
        context.fireChannelInactive()
    }

    /// Adds the handler at the end of `channel`'s pipeline; must run on its event loop.
    /// - Returns: when the link is up (`true`) or ended without coming up (`false`).
    static func install(on channel: any Channel) throws -> EventLoopFuture<Bool> {
        let promise = channel.eventLoop.makePromise(of: Bool.self)
        do {
            try channel.pipeline.syncOperations.addHandler(LinkActivation(promise))
        } catch {
            promise.succeed(false)
            throw error
        }
        return promise.futureResult
    }
}

@available(*, unavailable)
extension LinkActivation: Sendable {}
