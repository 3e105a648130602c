import Logging
import NIOCore
import Testing

@testable import CleverMessaging

/// The client's delivery stage, driven with frames and instants: no socket, no clock.
@Suite("DeliveryHelloStage")
struct DeliveryHelloStageTests {
    private let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private let marker: JSONObject = ["x-clever": 1]

    private func context(knowsPeer: Bool = false) -> HandshakeContext {
        HandshakeContext(
            link: HandshakeLink(remoteAddress: nil, connectionNumber: 1, linkNumber: 1),
            logger: Logger(label: "test"), peerSpeaksExtensions: knowsPeer
        )
    }

    private func stage(announce: Bool = false) -> DeliveryHelloStage {
        DeliveryHelloStage(session: "s1", received: 9, announce: announce, wait: .milliseconds(250))
    }

    @Test("a known server gets the hello at once; its answer passes the stage with the agreement")
    func announced() throws {
        var context = context(knowsPeer: true)
        var stage = stage()
        #expect(stage.start(context: &context, now: now) == .continue)
        let hello = try #require(context.takeOutbound().first)
        #expect(hello.header.messageType == .request)
        let members = ContentMembers(hello.content.jsonValue)
        #expect(members.requestedValue == "x-clever-session")
        #expect(members.kwargs == ["session": "s1", "acked": 9, "version": .integer(ProtocolVersion.current)])
        let answer = Frame.response("x-clever-session", id: try #require(members.requestID), value: ["acked": 4], extra: marker)
        let (verdict, consumed) = stage.receive(answer, context: &context, now: now)
        #expect(verdict == .pass && consumed)
        #expect(context.result(DeliveryHelloStage.Agreement.self) == .init(peerReceived: 4))
    }

    @Test("an unknown server: nothing is sent until its first frame shows x-clever")
    func waitsForTheMarker() {
        var context = context()
        var stage = stage()
        #expect(stage.start(context: &context, now: now) == .continue)
        #expect(context.takeOutbound().isEmpty)
        let id = Frame.request("id", id: "0001", extra: marker)
        let (verdict, consumed) = stage.receive(id, context: &context, now: now)
        #expect(verdict == .continue && !consumed, "the station's request is held for after the handshake")
        #expect(context.takeOutbound().count == 1)
    }

    @Test("a reference server: its first frame without x-clever passes the stage, and nothing is sent")
    func referenceServer() {
        var context = context()
        var stage = stage()
        _ = stage.start(context: &context, now: now)
        let (verdict, consumed) = stage.receive(Frame.action("takeoff"), context: &context, now: now)
        #expect(verdict == .pass && !consumed)
        #expect(context.takeOutbound().isEmpty)
        #expect(context.result(DeliveryHelloStage.Agreement.self) == nil)
        var silent = stage
        #expect(silent.timedOut(context: &context, now: now) == .pass)
    }

    @Test("an error answer (a server with delivery off) passes without an agreement")
    func refused() throws {
        var context = context(knowsPeer: true)
        var stage = stage(announce: true)
        #expect(stage.timeout == .seconds(2))
        _ = stage.start(context: &context, now: now)
        let id = try #require(ContentMembers(context.takeOutbound()[0].content.jsonValue).requestID)
        let error = Frame.response("x-clever-session", id: id, value: .null, extra: marker)
        let (verdict, consumed) = stage.receive(error, context: &context, now: now)
        #expect(verdict == .pass && consumed)
        #expect(context.result(DeliveryHelloStage.Agreement.self) == nil)
    }
}
