import Crypto
import NIOCore

/// A client's token stage: proves to a server of this library that this side
/// holds the token, without sending it, and checks the server's proof in turn
/// (see ``TokenServerStage`` for the exchange). It speaks first, so configure
/// it only toward a server of this library that requires a token: a reference
/// server would see one `x-clever-auth` request it does not know.
///
/// Outcomes: the server's proof checks out, and the link goes on to its next
/// stage; the server refuses (an error reply whose code is
/// ``HandshakeFailure/Reason/authenticationFailed``,
/// ``HandshakeFailure/Reason/authenticationRequired`` or
/// ``HandshakeFailure/Reason/incompatibleVersion``) or its proof is wrong
/// (``HandshakeFailure/Reason/authenticationFailed``); no answer in time
/// (``HandshakeFailure/Reason/timedOut``).
public struct TokenClientStage: HandshakeStage {
    /// Makes the stage for each link.
    public struct Factory: HandshakeStageFactory {
        /// The token.
        public var token: String
        /// The id this side names in its proof (needed for per-peer tokens on the server).
        public var id: String?

        /// A factory.
        /// - Parameters:
        ///   - token: the token.
        ///   - id: the id to name in the proof (a drone's id; `nil`: none).
        public init(token: String, id: String? = nil) {
            self.token = token
            self.id = id
        }

        /// A stage for a new link.
        public func makeStage(for link: HandshakeLink) -> any HandshakeStage {
            TokenClientStage(token: token, id: id)
        }
    }

    private let key: SymmetricKey
    private let id: String?
    private let clientNonce = TokenProof.nonce()
    private var serverNonce: String?
    private var helloRequest: String?
    private var proofRequest: String?

    /// A stage.
    /// - Parameters:
    ///   - token: the token.
    ///   - id: the id to name in the proof.
    public init(token: String, id: String?) {
        self.key = SymmetricKey(data: Array(token.utf8))
        self.id = id
    }

    /// `"token"`.
    public var name: String { "token" }

    /// Sends the hello.
    public mutating func start(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        helloRequest = context.sendRequest(
            ExtensionHeader.authentication,
            kwargs: ["step": "hello", ProtocolVersion.key: .integer(ProtocolVersion.current), "nonce": .string(clientNonce)]
        )
        return .continue
    }

    /// Takes the server's answers; other frames are held for after the handshake.
    public mutating func receive(_ frame: Frame, context: inout HandshakeContext, now: NIODeadline) -> (verdict: HandshakeVerdict, consumed: Bool) {
        guard frame.header.messageType == .response, let requestID = frame.header.requestID?.stringValue,
              requestID == helloRequest || requestID == proofRequest
        else { return (.continue, false) }
        let content = ContentMembers(frame.content.jsonValue)
        if let error = content.error, !error.isNull {
            return (.fail(refusal(error)), true)
        }
        if requestID == helloRequest {
            helloRequest = nil
            return (answerHello(content.value, context: &context), true)
        }
        proofRequest = nil
        guard let serverNonce, let proof = content.value?["proof"]?.stringValue,
              TokenProof.verify(proof, .server, key: key, serverNonce: serverNonce, clientNonce: clientNonce, id: id ?? "")
        else {
            return (.fail(failure(.authenticationFailed, "the server's proof is wrong: it does not hold this token")), true)
        }
        return (.pass, true)
    }

    /// No answer in time.
    public mutating func timedOut(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        .fail(failure(.timedOut, "the server did not answer \(ExtensionHeader.authentication) in time (is it a server of this library that requires a token?)"))
    }

    private mutating func answerHello(_ value: JSONValue?, context: inout HandshakeContext) -> HandshakeVerdict {
        if let failure = ProtocolVersion.incompatibility(peer: value?[ProtocolVersion.key], stage: name) { return .fail(failure) }
        guard let nonce = value?["nonce"]?.stringValue, !nonce.isEmpty else {
            return .fail(failure(.unexpectedFrame, "the server's token hello carries no nonce"))
        }
        serverNonce = nonce
        let proof = TokenProof.proof(.client, key: key, serverNonce: nonce, clientNonce: clientNonce, id: id ?? "")
        proofRequest = context.sendRequest(
            ExtensionHeader.authentication,
            kwargs: ["step": "proof", "id": id.map(JSONValue.string) ?? .null, "proof": .string(proof)]
        )
        return .continue
    }

    /// The server's error reply, as a failure of the reason it names.
    private func refusal(_ error: JSONValue) -> HandshakeFailure {
        let code = error["code"]?.stringValue ?? ""
        let message = error["message"]?.stringValue ?? "\(error)"
        let known: [HandshakeFailure.Reason] = [.authenticationFailed, .authenticationRequired, .incompatibleVersion, .unexpectedFrame]
        guard let reason = known.first(where: { $0.rawValue == code }) else {
            // A server of this library without a token stage answers `unknown_request`:
            // it cannot prove that it holds this token, so it is not taken for the server that does.
            return failure(.authenticationFailed, "the server does not take a token (it answered \(code.isEmpty ? "an error" : code): \(message))")
        }
        return failure(reason, "the server refused: \(message)")
    }

    private func failure(_ reason: HandshakeFailure.Reason, _ message: String) -> HandshakeFailure {
        HandshakeFailure(reason: reason, stage: name, message: message)
    }
}
