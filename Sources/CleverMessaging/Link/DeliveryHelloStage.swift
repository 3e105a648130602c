import NIOCore

/// A client's handshake stage of acknowledged delivery: it offers the
/// connection's session to a server of this library (a request
/// `x-clever-session` with the session id and how far this side received), and
/// the link opens once the server answered how far it received. The connection
/// then sends again what the server has not received, before anything else.
///
/// A reference server never sees the hello: the stage sends it only when the
/// server showed this library's `x-clever` key, on an earlier link of the
/// connection or in its first frame on this one (waited for at most
/// ``DeliveryConfiguration/helloWait`` from the stage's start, the answer
/// included), or when the configuration says the server is of this library.
/// A server that says nothing first, that answers without the key or with an
/// error, or that does not answer in time, gets a link without acknowledged
/// delivery: receipts then complete on write.
///
/// The hello and its answer carry each side's ``ProtocolVersion``: a server
/// that speaks another major version fails the stage
/// (``HandshakeFailure/Reason/incompatibleVersion``).
struct DeliveryHelloStage: HandshakeStage {
    /// What the server answered: the highest sequence number it received from this session.
    struct Agreement: Sendable, Hashable {
        /// The server's receive high-water mark.
        var peerReceived: UInt64
    }

    let session: String
    let received: UInt64
    let announce: Bool
    let wait: Duration
    private var helloID: String?

    /// A stage.
    /// - Parameters:
    ///   - session: the session id.
    ///   - received: this side's receive high-water mark.
    ///   - announce: send the hello at once (the server is known to be of this library).
    ///   - wait: how long to wait for the server's first frame, or its answer.
    init(session: String, received: UInt64, announce: Bool, wait: Duration) {
        self.session = session
        self.received = received
        self.announce = announce
        self.wait = wait
    }

    var name: String { "delivery" }

    /// The wait for the server's first frame and the answer; eight times as
    /// long when the hello goes at once (the server is known to be of this
    /// library, and a busy one may answer late). A link that opens without the
    /// answer offers the session again once open.
    var timeout: Duration? { announce ? wait * 8 : wait }

    mutating func start(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        if announce || context.peerSpeaksExtensions { sendHello(&context) }
        return .continue
    }

    mutating func receive(_ frame: Frame, context: inout HandshakeContext, now: NIODeadline) -> (verdict: HandshakeVerdict, consumed: Bool) {
        if let helloID {
            guard frame.header.messageType == .response, frame.header.requestID?.stringValue == helloID else { return (.continue, false) }
            let members = ContentMembers(frame.content.jsonValue)
            if members.error?["code"]?.stringValue == HandshakeFailure.Reason.incompatibleVersion.rawValue {
                let message = members.error?["message"]?.stringValue ?? "incompatible protocol version"
                return (.fail(HandshakeFailure(reason: .incompatibleVersion, stage: name, message: "the server refused: \(message)")), true)
            }
            if let failure = ProtocolVersion.incompatibility(peer: members.value?[ProtocolVersion.key], stage: name) {
                return (.fail(failure), true)
            }
            let value = members.value
            guard case .object(let answer) = value, let acked = answer["acked"]?.integerValue, acked >= 0 else {
                // An error reply, or no answer of ours: the link opens without acknowledged delivery.
                return (.pass, true)
            }
            context.record(Agreement(peerReceived: UInt64(acked)))
            return (.pass, true)
        }
        guard CapabilityStage.shows(frame.header) else { return (.pass, false) }
        sendHello(&context)
        return (.continue, false)
    }

    mutating func timedOut(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        .pass
    }

    private mutating func sendHello(_ context: inout HandshakeContext) {
        guard helloID == nil else { return }
        helloID = context.sendRequest(
            ExtensionHeader.sessionHello,
            kwargs: [
                "session": .string(session), "acked": .integer(Int(truncatingIfNeeded: received)),
                ProtocolVersion.key: .integer(ProtocolVersion.current),
            ]
        )
    }
}

/// A ``DeliveryHelloStage`` for code of the package that cannot name the type (the fuzz harness).
/// - Parameters:
///   - session: the session id.
///   - received: this side's receive high-water mark.
///   - announce: send the hello at once.
///   - wait: how long to wait for the server's first frame, or its answer.
/// - Returns: the stage.
package func makeDeliveryHelloStage(session: String, received: UInt64, announce: Bool, wait: Duration) -> any HandshakeStage {
    DeliveryHelloStage(session: session, received: received, announce: announce, wait: wait)
}
