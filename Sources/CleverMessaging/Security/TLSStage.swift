import NIOCore
import NIOSSL

extension HandshakeFailure.Reason {
    /// The link's TLS handshake failed: the peer does not speak TLS, its
    /// certificate is not trusted or does not name it, or it presented none
    /// where one is required (``TLSStage``).
    public static let tlsFailed = HandshakeFailure.Reason(rawValue: "tls_failed")
}

/// The first handshake stage of a link secured by ``TLSOptions``: it passes
/// once NIOSSL's handshake completed (the ``TLSPeer`` event), records the
/// ``TLSPeer``, and fails with ``HandshakeFailure/Reason/tlsFailed`` when TLS fails.
///
/// The roles put it first in ``ConnectionConfiguration/handshake`` for the
/// links of a TLS listener or client: no other stage starts, so nothing is
/// written or dispatched, before TLS is up. It sends no frame.
public struct TLSStage: HandshakeStage {
    /// Makes the stage for each link.
    public struct Factory: HandshakeStageFactory {
        /// A factory.
        public init() {}

        /// A fresh stage.
        /// - Parameter link: the link.
        /// - Returns: the stage.
        public func makeStage(for link: HandshakeLink) -> any HandshakeStage { TLSStage() }
    }

    /// A stage.
    public init() {}

    /// `"tls"`.
    public var name: String { "tls" }

    /// Waits for the TLS handshake.
    /// - Parameters:
    ///   - context: the link.
    ///   - now: the present.
    /// - Returns: ``HandshakeVerdict/continue``.
    public mutating func start(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        .continue
    }

    /// Passes on the ``TLSPeer`` event; fails on a TLS error.
    /// - Parameters:
    ///   - event: a user event, or an error the pipeline caught.
    ///   - context: the link.
    ///   - now: the present.
    /// - Returns: the verdict.
    public mutating func receive(event: Any, context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        if let peer = event as? TLSPeer {
            context.record(peer)
            return .pass
        }
        if let error = event as? any Error {
            return .fail(HandshakeFailure(reason: .tlsFailed, stage: name, message: Self.explain(error)))
        }
        return .continue
    }

    /// The handshake's time ran out before TLS was up.
    /// - Parameters:
    ///   - context: the link.
    ///   - now: the present.
    /// - Returns: a ``HandshakeFailure/Reason/tlsFailed`` failure.
    public mutating func timedOut(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        .fail(HandshakeFailure(reason: .tlsFailed, stage: name, message: "no TLS handshake in time: the peer may not speak TLS (a plain peer on a TLS port?)"))
    }

    /// Plain words for a TLS error, with BoringSSL's own at the end.
    static func explain(_ error: any Error) -> String {
        let detail = "\(error)"
        let words: String
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            words = "the server's certificate does not name the host connected to"
        } else if detail.contains("WRONG_VERSION_NUMBER") || detail.contains("HTTP_REQUEST") || detail.contains("PACKET_LENGTH_TOO_LONG")
            || detail.contains("UNEXPECTED_RECORD") || detail.contains("RECORD_LENGTH_MISMATCH") || detail.contains("DECODE_ERROR")
        {
            words = "the peer does not speak TLS (a plain peer on a TLS port, or a TLS peer on a plain one)"
        } else if detail.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") || detail.contains("CERTIFICATE_REQUIRED") {
            words = "a client certificate is required and none was presented"
        } else if detail.contains("CERTIFICATE_VERIFY_FAILED") {
            words = "the peer's certificate is not signed by a trusted CA"
        } else if detail.contains("UNKNOWN_CA") || detail.contains("BAD_CERTIFICATE") {
            words = "the peer does not trust this side's certificate"
        } else if detail.contains("EOF during handshake") {
            words = "the peer closed the link during the TLS handshake"
        } else if case NIOSSLError.uncleanShutdown = error {
            words = "the peer closed the link during the TLS handshake"
        } else {
            words = "TLS handshake failed"
        }
        return "\(words): \(detail)"
    }
}
