import Crypto

/// The proofs of the token exchange (`x-clever-auth`): each side proves it
/// holds the token without sending it, by an HMAC-SHA256 keyed with the token
/// over both sides' fresh nonces and the id the client named. The server's
/// nonce makes a recorded proof useless on another link; the client's nonce
/// does the same for the server's proof, which the client checks in turn (a
/// server that does not hold the token cannot pass for one that does).
enum TokenProof {
    /// Which side a proof is from (part of what is authenticated, so that one
    /// side's proof is never taken for the other's).
    enum Side: String {
        case client
        case server
    }

    /// A fresh random nonce: 16 bytes from the system's secure generator, as lowercase hex.
    static func nonce() -> String {
        Hex.encode(SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) })
    }

    /// The proof `side` sends.
    /// - Parameters:
    ///   - side: who proves.
    ///   - key: the token.
    ///   - serverNonce: the server's nonce.
    ///   - clientNonce: the client's nonce.
    ///   - id: the id the client named (empty when none).
    /// - Returns: the HMAC-SHA256, lowercase hex.
    static func proof(_ side: Side, key: SymmetricKey, serverNonce: String, clientNonce: String, id: String) -> String {
        Hex.encode(Array(HMAC<SHA256>.authenticationCode(for: message(side, serverNonce: serverNonce, clientNonce: clientNonce, id: id), using: key)))
    }

    /// Whether `proof` (hex) is the proof `side` must send, compared in constant time.
    static func verify(
        _ proof: String, _ side: Side, key: SymmetricKey, serverNonce: String, clientNonce: String, id: String
    ) -> Bool {
        guard let code = Hex.decode(proof), code.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            code, authenticating: message(side, serverNonce: serverNonce, clientNonce: clientNonce, id: id), using: key
        )
    }

    /// What is authenticated: a label, the side, both nonces and the id, each field length-prefixed.
    private static func message(_ side: Side, serverNonce: String, clientNonce: String, id: String) -> [UInt8] {
        var bytes = Array("clever-auth-v1".utf8)
        for field in [side.rawValue, serverNonce, clientNonce, id] {
            let utf8 = Array(field.utf8)
            bytes.append(contentsOf: [UInt8(truncatingIfNeeded: utf8.count >> 8), UInt8(truncatingIfNeeded: utf8.count)])
            bytes.append(contentsOf: utf8)
        }
        return bytes
    }
}
