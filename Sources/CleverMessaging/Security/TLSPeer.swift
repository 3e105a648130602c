/// What the TLS handshake of a link showed of the peer, recorded by
/// ``TLSStage`` (``Connection/handshakeResult(_:)`` with `TLSPeer.self`).
///
/// It also travels up the pipeline as a user event once NIOSSL's handshake
/// completed: ``TLSStage`` passes on it.
public struct TLSPeer: Sendable, Hashable {
    /// The common name (CN) of the certificate the peer presented, if it
    /// presented one that has a CN (with mutual TLS, the drone's certificate).
    public var commonName: String?
    /// Whether the listener's options ask a ``GroundStation`` to take the
    /// drone's id from ``commonName`` (``TLSOptions/idFromCommonName``).
    public var idFromCommonName: Bool

    /// What a link's TLS showed.
    /// - Parameters:
    ///   - commonName: the peer certificate's CN, if any.
    ///   - idFromCommonName: whether the id is to be the CN.
    public init(commonName: String?, idFromCommonName: Bool) {
        self.commonName = commonName
        self.idFromCommonName = idFromCommonName
    }

    /// The station's check of a drone's `id` answer against its certificate:
    /// `nil` when the id may be used, or why the link is refused.
    /// - Parameter id: the drone's `id` answer.
    /// - Returns: the refusal, or `nil`.
    func refusal(ofID id: String) -> HandshakeFailure? {
        guard idFromCommonName else { return nil }
        guard let commonName, !commonName.isEmpty else {
            return HandshakeFailure(reason: .rejected, stage: "identify", message: "the drone's certificate has no common name to take its id from")
        }
        guard commonName == id else {
            return HandshakeFailure(
                reason: .rejected, stage: "identify",
                message: "the drone answered id \"\(id)\" but its certificate names \"\(commonName)\""
            )
        }
        return nil
    }
}
