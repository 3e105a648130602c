/// Why a discovery beacon or listener failed.
public enum DiscoveryError: Error, Sendable, Hashable {
    /// The address cannot be used (not an IP address, no such host, port out of range).
    case invalidAddress(host: String, port: Int, reason: String)
    /// The target is the broadcast address but the beacon was not allowed to broadcast
    /// (pass `allowBroadcast: true` to send there).
    case broadcastNotAllowed(host: String, port: Int)
    /// The UDP socket could not be opened or bound.
    case bindFailed(host: String, port: Int, reason: String)
    /// A datagram could not be sent.
    case sendFailed(host: String, port: Int, reason: String)
    /// The announcement could not be encoded into a frame.
    case encoding(FrameEncodingError)
    /// No announcement arrived in time.
    case timedOut(after: Duration)
    /// The beacon or listener was closed.
    case closed
    /// The waiting task was cancelled.
    case cancelled
}

extension DiscoveryError: CustomStringConvertible {
    /// A one-line explanation.
    public var description: String {
        switch self {
        case .invalidAddress(let host, let port, let reason): return "invalid address \(host):\(port): \(reason)"
        case .broadcastNotAllowed(let host, let port):
            return "\(host):\(port) is a broadcast address and broadcasting was not allowed (allowBroadcast: true)"
        case .bindFailed(let host, let port, let reason): return "cannot bind UDP socket to \(host):\(port): \(reason)"
        case .sendFailed(let host, let port, let reason): return "cannot send beacon to \(host):\(port): \(reason)"
        case .encoding(let error): return "cannot encode announcement: \(error)"
        case .timedOut(let duration): return "no server announcement within \(DurationText.describe(duration))"
        case .closed: return "discovery socket closed"
        case .cancelled: return "cancelled"
        }
    }
}
