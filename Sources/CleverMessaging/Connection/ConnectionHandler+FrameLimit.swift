import Logging
import NIOCore

extension ConnectionHandler {
    /// A read begins on a link with a frame limit: the budget's clock is read once for the whole read.
    func startRead(_ limit: FrameRateLimit) {
        readInstant = .now()
        if frameBucket == nil { frameBucket = TokenBucket(limit, now: readInstant) }
    }

    /// One more frame arrived: whether the link's budget allows it. When it does
    /// not, the link is closed with a warning naming the peer, and nothing more is read.
    func frameAllowed(context: ChannelHandlerContext) -> Bool {
        if frameBucket!.take(now: readInstant) { return true }
        let limit = frameLimit?.framesPerSecond ?? 0
        let peer = connection.peerID ?? "peer"
        let address = Connection.describe(context.channel.remoteAddress)
        connection.logger.warning("\(peer) (\(address)) sent more than \(limit) frames/s; link closed", metadata: connection.linkMetadata)
        fail(context: context, error: MessagingError.closed)
        return false
    }
}

extension InboundPart {
    /// Whether this part begins a frame (a whole JSON or binary frame, or a binary frame's header).
    var startsFrame: Bool {
        switch self {
        case .json, .binary(.frame), .binary(.binaryHead): return true
        case .binary(.binaryBody), .binary(.binaryEnd): return false
        }
    }
}
