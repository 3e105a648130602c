import NIOCore

extension ExtensionHeader {
    /// The requested value of the token exchange (``TokenClientStage``,
    /// ``TokenServerStage``): a client configured with a token sends it first,
    /// so a server only ever answers it, never sends it unasked.
    package static let authentication = "x-clever-auth"
}

/// A server's token stage: a link opens only once its peer proved that it
/// holds the token (shared, or the one of the id it names), without sending
/// the token.
///
/// The exchange, all `x-clever-auth` requests from the client (``TokenClientStage``)
/// answered by the server:
/// 1. `{"step": "hello", "version": 1, "nonce": <client nonce>}`, answered
///    `{"version": 1, "nonce": <server nonce>}`;
/// 2. `{"step": "proof", "id": <id or null>, "proof": <hex>}`, where the proof is
///    HMAC-SHA256(token, client, server nonce, client nonce, id), answered
///    `{"proof": <hex>}`, the server's own HMAC over the same with side `server`.
///
/// A wrong proof, or an id without a token, is answered with an error reply
/// of code `authentication_failed`, and the link is closed
/// (``HandshakeFailure/Reason/authenticationFailed``). A peer that sends
/// anything else first, or nothing within the handshake's deadline, is refused
/// with ``HandshakeFailure/Reason/authenticationRequired``: so is every
/// reference peer, which does not speak this library's extensions and is never
/// sent an extension frame (the server waits; it speaks only when spoken to).
///
/// The id the client named is recorded (``Authenticated``): a ``GroundStation``
/// then lets that link identify only as that id.
public struct TokenServerStage: HandshakeStage {
    /// Makes the stage for each link.
    public struct Factory: HandshakeStageFactory {
        /// The tokens accepted.
        public var store: TokenStore

        /// A factory.
        /// - Parameter store: the tokens accepted.
        public init(store: TokenStore) {
            self.store = store
        }

        /// A stage for a new link.
        public func makeStage(for link: HandshakeLink) -> any HandshakeStage {
            TokenServerStage(store: store)
        }
    }

    /// What the stage records once the peer proved its token (``Connection/handshakeResult(_:)``).
    public struct Authenticated: Sendable, Hashable {
        /// The id the peer named in its proof, if it named one.
        public var id: String?

        /// A record.
        /// - Parameter id: the id the peer named.
        public init(id: String?) {
            self.id = id
        }
    }

    /// The longest nonce or id taken from a peer.
    static let maximumFieldLength = 256

    private let store: TokenStore
    private var clientNonce: String?
    private var serverNonce: String?

    /// A stage.
    /// - Parameter store: the tokens accepted.
    public init(store: TokenStore) {
        self.store = store
    }

    /// `"token"`.
    public var name: String { "token" }

    /// Waits for the client's hello (a server never speaks first).
    public mutating func start(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        .continue
    }

    /// Takes the client's `x-clever-auth` requests; anything else refuses the link.
    public mutating func receive(_ frame: Frame, context: inout HandshakeContext, now: NIODeadline) -> (verdict: HandshakeVerdict, consumed: Bool) {
        let extensions = CapabilityStage.shows(frame.header)
        let content = ContentMembers(frame.content.jsonValue)
        guard frame.header.messageType == .request, extensions, content.requestedValue?.stringValue == ExtensionHeader.authentication,
              let id = content.requestID
        else {
            let what = extensions ? "a frame" : "a frame without this library's extensions (a reference peer?)"
            let failure = failure(.authenticationRequired, "the peer sent \(what) before authenticating")
            if extensions, frame.header.messageType == .request, let id = content.requestID {
                reply(&context, to: id, failure: failure, public: "this server requires a token")
            }
            return (.fail(failure), true)
        }
        switch content.kwargs["step"]?.stringValue {
        case "hello" where serverNonce == nil:
            return (hello(content.kwargs, id: id, context: &context), true)
        case "proof" where serverNonce != nil:
            return (proof(content.kwargs, id: id, context: &context), true)
        default:
            let failure = failure(.unexpectedFrame, "unexpected step of the token exchange")
            reply(&context, to: id, failure: failure, public: failure.message)
            return (.fail(failure), true)
        }
    }

    /// Nothing (or not all) in time: the peer did not authenticate.
    public mutating func timedOut(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        .fail(failure(.authenticationRequired, "the peer did not prove a token in time"))
    }

    private mutating func hello(_ kwargs: JSONObject, id: JSONValue, context: inout HandshakeContext) -> HandshakeVerdict {
        if let failure = ProtocolVersion.incompatibility(peer: kwargs[ProtocolVersion.key], stage: name) {
            let version = kwargs[ProtocolVersion.key] ?? .null
            reply(&context, to: id, failure: failure, public: "client speaks clever-messaging protocol \(version), server speaks \(ProtocolVersion.current)")
            return .fail(failure)
        }
        guard let nonce = kwargs["nonce"]?.stringValue, !nonce.isEmpty, nonce.utf8.count <= Self.maximumFieldLength else {
            let failure = failure(.unexpectedFrame, "the token hello carries no usable nonce")
            reply(&context, to: id, failure: failure, public: failure.message)
            return .fail(failure)
        }
        clientNonce = nonce
        let serverNonce = TokenProof.nonce()
        self.serverNonce = serverNonce
        context.send(.response(
            ExtensionHeader.authentication, id: id,
            value: [ProtocolVersion.key: .integer(ProtocolVersion.current), "nonce": .string(serverNonce)]
        ))
        return .continue
    }

    private func proof(_ kwargs: JSONObject, id: JSONValue, context: inout HandshakeContext) -> HandshakeVerdict {
        guard let serverNonce, let clientNonce else { return .continue }
        let peerID = kwargs["id"]?.stringValue
        let proof = kwargs["proof"]?.stringValue ?? ""
        guard (peerID?.utf8.count ?? 0) <= Self.maximumFieldLength, let key = store.key(for: peerID) else {
            let detail = peerID.map { "no token for id \($0)" } ?? "the peer named no id, and tokens are per peer"
            let failure = failure(.authenticationFailed, detail)
            reply(&context, to: id, failure: failure, public: "wrong token")
            return .fail(failure)
        }
        guard TokenProof.verify(proof, .client, key: key, serverNonce: serverNonce, clientNonce: clientNonce, id: peerID ?? "") else {
            let failure = failure(.authenticationFailed, "wrong token" + (peerID.map { " for id \($0)" } ?? ""))
            reply(&context, to: id, failure: failure, public: "wrong token")
            return .fail(failure)
        }
        context.record(Authenticated(id: peerID))
        let answer = TokenProof.proof(.server, key: key, serverNonce: serverNonce, clientNonce: clientNonce, id: peerID ?? "")
        context.send(.response(ExtensionHeader.authentication, id: id, value: ["proof": .string(answer)]))
        return .pass
    }

    /// Sends an error reply `{"code": <reason>, "message": ...}` (the peer showed the extensions).
    private func reply(_ context: inout HandshakeContext, to id: JSONValue, failure: HandshakeFailure, public message: String) {
        var frame = Frame.response(ExtensionHeader.authentication, id: id, value: .null)
        frame.content = .json(["value": .null, "error": RemoteError(code: failure.reason.rawValue, message: message).jsonValue])
        context.send(frame)
    }

    private func failure(_ reason: HandshakeFailure.Reason, _ message: String) -> HandshakeFailure {
        HandshakeFailure(reason: reason, stage: name, message: message)
    }
}
