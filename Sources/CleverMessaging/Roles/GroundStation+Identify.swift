import Logging
import NIOConcurrencyHelpers
import NIOCore

extension HandshakeFailure.Reason {
    /// The peer answered the id of a drone connected from another host
    /// (the ground station's identify stage refuses it).
    package static let duplicateID = HandshakeFailure.Reason(rawValue: "duplicate_id")
}

/// The ground station's identify step, run in each new link's handshake: an
/// ``IdentifyStage`` (`id` and `clover_dir` asked in one write), then the
/// station's admission of the answered id: a drone with the id of a drone
/// connected from another host is refused (``HandshakeFailure/Reason/duplicateID``),
/// so its link never opens. The station registers the drone once the link is open.
struct StationIdentifyStage: HandshakeStage {
    /// Decides whether a link that answered `identity` may open: `nil` to let
    /// it, or why not. Called on the link's event loop.
    typealias Admission = @Sendable (_ identity: IdentifyStage.Identity, _ link: HandshakeLink) -> HandshakeFailure?

    /// Makes the stage for each link.
    struct Factory: HandshakeStageFactory {
        var timeout: Duration
        var admit: Admission

        func makeStage(for link: HandshakeLink) -> any HandshakeStage {
            StationIdentifyStage(identify: IdentifyStage(timeout: timeout), admit: admit)
        }
    }

    private var identify: IdentifyStage
    private let admit: Admission

    init(identify: IdentifyStage, admit: @escaping Admission) {
        self.identify = identify
        self.admit = admit
    }

    var name: String { identify.name }
    var timeout: Duration? { identify.timeout }

    mutating func start(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        admitted(identify.start(context: &context, now: now), context: context)
    }

    mutating func receive(_ frame: Frame, context: inout HandshakeContext, now: NIODeadline) -> (verdict: HandshakeVerdict, consumed: Bool) {
        let (verdict, consumed) = identify.receive(frame, context: &context, now: now)
        return (admitted(verdict, context: context), consumed)
    }

    mutating func timedOut(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        admitted(identify.timedOut(context: &context, now: now), context: context)
    }

    /// A pass of the identify stage, checked by the station.
    private func admitted(_ verdict: HandshakeVerdict, context: HandshakeContext) -> HandshakeVerdict {
        guard case .pass = verdict, let identity = context.result(IdentifyStage.Identity.self) else { return verdict }
        if let authenticated = context.result(TokenServerStage.Authenticated.self)?.id, authenticated != identity.id {
            // A drone proves the token of one id: it may not identify as another.
            return .fail(HandshakeFailure(
                reason: .authenticationFailed, stage: name,
                message: "the peer proved the token of \(authenticated) and answered id \(identity.id)"
            ))
        }
        // A TLS listener that takes the id from the client certificate: the answer must be the certificate's CN.
        if let refusal = context.result(TLSPeer.self)?.refusal(ofID: identity.id) { return .fail(refusal) }
        if let refusal = admit(identity, context.link) { return .fail(refusal) }
        return verdict
    }
}
