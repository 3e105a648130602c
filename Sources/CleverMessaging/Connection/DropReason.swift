import NIOCore

/// Why this side drops a link: a few bytes in the connection's state, where a
/// ``MessagingError`` would take many.
enum DropReason: Sendable, Hashable {
    /// Nothing moved for `idle`, and a ping went unanswered.
    case peerUnresponsive(idle: TimeAmount)
    /// A file transfer moved nothing for `idle`.
    case transferStalled(idle: TimeAmount)

    /// The error that the drop fails what waits on the link with.
    var error: MessagingError {
        switch self {
        case .peerUnresponsive(let idle): return .peerUnresponsive(idle: Duration(idle))
        case .transferStalled(let idle): return .transferStalled(idle: Duration(idle))
        }
    }
}
