/// The version of this library's extension protocol (the `x-clever` frames:
/// error replies, acknowledged delivery, token authentication...), exchanged
/// by two peers of this library in their handshake: in the delivery hello
/// (`x-clever-session`) and in the token exchange (`x-clever-auth`). A
/// reference peer never sees it.
///
/// Peers whose major versions differ cannot talk: the link is refused with
/// ``HandshakeFailure/Reason/incompatibleVersion``, in a message naming both
/// versions. A peer that names no version (an earlier release of this
/// library) is taken as compatible.
public enum ProtocolVersion {
    /// The major version this side speaks.
    public static let current = 1

    /// The key under which the version travels (in kwargs and in answers).
    package static let key = "version"

    /// Checks the version a peer named.
    /// - Parameters:
    ///   - peer: the peer's version, as it arrived (`nil`: it named none).
    ///   - stage: the name of the stage that checks (for the failure).
    /// - Returns: the failure when the versions are incompatible (or the value is not a version), else `nil`.
    public static func incompatibility(peer: JSONValue?, stage: String) -> HandshakeFailure? {
        guard let peer, !peer.isNull else { return nil }
        guard let major = peer.integerValue else {
            return HandshakeFailure(reason: .incompatibleVersion, stage: stage, message: "peer named protocol version \(peer), which is not a version; this side speaks \(current)")
        }
        guard major != current else { return nil }
        return HandshakeFailure(
            reason: .incompatibleVersion, stage: stage,
            message: "peer speaks clever-messaging protocol \(major), this side speaks \(current)"
        )
    }
}

extension HandshakeFailure.Reason {
    /// The peer speaks another major version of this library's extension protocol (``ProtocolVersion``).
    public static let incompatibleVersion = HandshakeFailure.Reason(rawValue: "incompatible_version")
    /// The server requires a token and the peer did not present one (or does
    /// not speak this library's extensions at all: a reference peer).
    public static let authenticationRequired = HandshakeFailure.Reason(rawValue: "authentication_required")
    /// The peer's proof of its token was wrong (or it named an id without a token).
    public static let authenticationFailed = HandshakeFailure.Reason(rawValue: "authentication_failed")
}
