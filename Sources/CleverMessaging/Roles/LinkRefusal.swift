/// A link a server refused: closed at once for a limit, or closed because its
/// handshake failed (``MessagingServer/refusals()``).
public struct LinkRefusal: Sendable, Hashable {
    /// Why a link was refused: a stable, machine-readable code.
    public struct Reason: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The code's text, such as `"authentication_failed"`.
        public var rawValue: String

        /// A reason.
        /// - Parameter rawValue: its text.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// The code's text.
        public var description: String { rawValue }

        /// ``MessagingServer/maximumConnections`` were served already.
        public static let tooManyConnections = Reason(rawValue: "too_many_connections")
        /// ``MessagingServer/maximumConnectionsPerAddress`` were served from the link's address already.
        public static let tooManyConnectionsFromAddress = Reason(rawValue: "too_many_connections_from_address")
    }

    /// The peer's address, `host:port`.
    public var address: String
    /// Why: one of the reasons above, or the ``HandshakeFailure/Reason`` of a
    /// failed handshake (`authentication_required`, `authentication_failed`,
    /// `incompatible_version`, `timed_out`, `duplicate_id`...).
    public var reason: Reason
    /// A human-readable explanation.
    public var message: String

    /// A refusal.
    /// - Parameters:
    ///   - address: the peer's address.
    ///   - reason: why.
    ///   - message: an explanation.
    public init(address: String, reason: Reason, message: String) {
        self.address = address
        self.reason = reason
        self.message = message
    }
}
