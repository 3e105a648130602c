import Logging
import NIOCore

extension MessagingServer {
    /// A stream of the links refused from now on: closed at once for
    /// ``maximumConnections`` or ``maximumConnectionsPerAddress``, or closed
    /// because their handshake failed (a missing or wrong token, an incompatible
    /// version, a peer that said nothing in time...). Each call gets its own stream.
    /// - Returns: the refusals; the stream ends when ``run()`` returns.
    public func refusals() -> AsyncStream<LinkRefusal> {
        refusalSubscribers.subscribe()
    }

    /// A link was refused at accept for a limit: logged and told.
    func refused(_ address: SocketAddress?, reason: LinkRefusal.Reason) {
        let message: String
        switch reason {
        case .tooManyConnectionsFromAddress:
            message = "\(maximumConnectionsPerAddress ?? 0) connections from \(address?.ipAddress ?? "?") already"
        default:
            message = "\(maximumConnections ?? 0) connections already"
        }
        let peer = Connection.describe(address)
        logger.warning("connection refused: \(message)", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        metrics?.linkRefused(reason: reason.rawValue)
        refusalSubscribers.publish(LinkRefusal(address: peer, reason: reason, message: message))
    }

    /// A link's handshake failed (the connection logged why): told.
    func handshakeRefused(_ connection: Connection, _ failure: HandshakeFailure) {
        metrics?.linkRefused(reason: failure.reason.rawValue)
        refusalSubscribers.publish(LinkRefusal(
            address: Connection.describe(connection.remoteAddress),
            reason: LinkRefusal.Reason(rawValue: failure.reason.rawValue),
            message: failure.message
        ))
    }
}
