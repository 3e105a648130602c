/// Why a listener ignored a discovery datagram (see ``BeaconVerifier/verify(_:now:)``).
public enum BeaconRejection: Error, Sendable, Hashable {
    /// The datagram holds no well-formed `server_ip` action frame; `reason` says what is wrong.
    case malformed(reason: String)
    /// The listener has a key and the beacon carries no signature.
    case unsigned
    /// The signature is not this key's HMAC over the beacon (another key, a
    /// changed beacon, or a malformed signature or signing time).
    case badSignature
    /// The beacon was signed longer ago than the replay window.
    case expired
    /// The beacon was signed further in the future than the replay window.
    case fromTheFuture

    /// Whether this rejection is about the signature (rather than the datagram's
    /// form): those are what a listener with a key warns about.
    public var isSignatureRejection: Bool {
        if case .malformed = self { return false }
        return true
    }

    /// The rejection without its details (the malformed reason), for counting and log limits.
    var kind: String {
        switch self {
        case .malformed: return "malformed"
        case .unsigned: return "unsigned"
        case .badSignature: return "bad signature"
        case .expired: return "expired"
        case .fromTheFuture: return "signed in the future"
        }
    }
}

extension BeaconRejection: CustomStringConvertible {
    /// A short phrase: `"unsigned"`, `"bad signature"`, `"expired"`,
    /// `"signed in the future"`, or the malformed datagram's reason.
    public var description: String {
        if case .malformed(let reason) = self { return reason }
        return kind
    }
}
