import Logging
import NIOCore
import Testing

@testable import CleverMessaging

/// The token exchange, driven between a client's and a server's handshake
/// machines with no socket and no clock: frames are handed across by hand and
/// time is an explicit instant.
@Suite("Token stages")
struct TokenStageTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func context(extensions: Bool = false) -> HandshakeContext {
        HandshakeContext(link: HandshakeLink(remoteAddress: nil, connectionNumber: 1, linkNumber: 1), logger: Logger(label: "test"))
    }

    /// Marks a frame as a peer of this library sends it (the `x-clever` key).
    func marked(_ frame: Frame) -> Frame {
        var frame = frame
        frame.header.extra[ExtensionHeader.capabilities] = 1
        return frame
    }

    /// Runs the exchange until neither side has anything to send.
    /// - Returns: both machines' last outcomes.
    func exchange(client: inout HandshakeRun, server: inout HandshakeRun) -> (client: HandshakeRun.Outcome, server: HandshakeRun.Outcome) {
        var clientOutcome = client.start(now: start)
        var serverOutcome = server.start(now: start)
        var turns = 0
        while turns < 10 {
            turns += 1
            let toServer = client.takeOutbound().map(marked)
            let toClient = server.takeOutbound().map(marked)
            if toServer.isEmpty && toClient.isEmpty { break }
            for frame in toServer { serverOutcome = server.receive(frame, now: start + .milliseconds(Int64(turns))) }
            for frame in toClient { clientOutcome = client.receive(frame, now: start + .milliseconds(Int64(turns))) }
        }
        return (clientOutcome, serverOutcome)
    }

    func run(_ stage: any HandshakeStage) -> HandshakeRun {
        HandshakeRun(stages: [stage], context: context(), timeout: .seconds(2), now: start)
    }

    func failure(_ outcome: HandshakeRun.Outcome) -> HandshakeFailure? {
        if case .failed(let failure) = outcome { return failure }
        return nil
    }

    @Test("the right shared token passes both sides; the token itself never travels")
    func rightToken() {
        var client = run(TokenClientStage(token: "s3cret-token", id: "copter-1"))
        var server = run(TokenServerStage(store: TokenStore(sharedToken: "s3cret-token")))
        _ = client.start(now: start)
        let hello = client.takeOutbound()
        #expect(!"\(hello)".contains("s3cret-token"))
        client = run(TokenClientStage(token: "s3cret-token", id: "copter-1"))
        let (c, s) = exchange(client: &client, server: &server)
        guard case .passed = c, case .passed = s else { Issue.record("not passed: \(c) \(s)"); return }
        #expect(server.context.result(TokenServerStage.Authenticated.self) == .init(id: "copter-1"))
    }

    @Test("a wrong token fails both sides with authentication_failed")
    func wrongToken() {
        var client = run(TokenClientStage(token: "guess", id: "copter-1"))
        var server = run(TokenServerStage(store: TokenStore(sharedToken: "s3cret-token")))
        let (c, s) = exchange(client: &client, server: &server)
        #expect(failure(s)?.reason == .authenticationFailed)
        #expect(failure(c)?.reason == .authenticationFailed)
        #expect(MessagingError.handshakeFailed(failure(c)!).code == .authenticationFailed)
        #expect(MessagingError.handshakeFailed(failure(c)!).code.rawValue == "authentication_failed")
    }

    @Test("per-peer tokens: the token of the id named passes; another id's, or an unknown id, fails")
    func perPeer() {
        let store = TokenStore(tokens: ["copter-1": "token-one", "copter-2": "token-two"])
        var client = run(TokenClientStage(token: "token-two", id: "copter-2"))
        var server = run(TokenServerStage(store: store))
        let (c, s) = exchange(client: &client, server: &server)
        guard case .passed = c, case .passed = s else { Issue.record("not passed: \(c) \(s)"); return }
        #expect(server.context.result(TokenServerStage.Authenticated.self)?.id == "copter-2")

        var thief = run(TokenClientStage(token: "token-two", id: "copter-1"))
        var server2 = run(TokenServerStage(store: store))
        let stolen = exchange(client: &thief, server: &server2)
        #expect(failure(stolen.server)?.reason == .authenticationFailed)

        var stranger = run(TokenClientStage(token: "token-two", id: "copter-9"))
        var server3 = run(TokenServerStage(store: store))
        let outcome = exchange(client: &stranger, server: &server3)
        #expect(failure(outcome.server)?.message.contains("no token for id copter-9") == true)
        #expect(failure(outcome.client)?.reason == .authenticationFailed)
    }

    @Test("a server with a token refuses a reference peer's frame, and a peer that says nothing, with authentication_required, sending it nothing")
    func required() {
        var server = run(TokenServerStage(store: TokenStore(sharedToken: "t")))
        guard case .waiting = server.start(now: start) else { Issue.record("not waiting"); return }
        let first = server.takeOutbound()
        #expect(first.isEmpty)
        let outcome = server.receive(.action("telemetry", args: [1]), now: start + .milliseconds(5))
        #expect(failure(outcome)?.reason == .authenticationRequired)
        // Nothing is sent to a peer that never showed the extensions.
        let sent = server.takeOutbound()
        #expect(sent.isEmpty)

        var silent = run(TokenServerStage(store: TokenStore(sharedToken: "t")))
        _ = silent.start(now: start)
        guard case .waiting = silent.tick(now: start + .milliseconds(1_999)) else { Issue.record("early"); return }
        let late = silent.tick(now: start + .seconds(2))
        #expect(failure(late)?.reason == .authenticationRequired)
        #expect(MessagingError.handshakeFailed(failure(late)!).code == .authenticationRequired)

        // A peer of this library without a token: its request gets a typed error reply.
        var library = run(TokenServerStage(store: TokenStore(sharedToken: "t")))
        _ = library.start(now: start)
        let request = marked(.request("telemetry", id: "0001", args: [], kwargs: [:]))
        let refusedRequest = library.receive(request, now: start)
        #expect(failure(refusedRequest)?.reason == .authenticationRequired)
        let reply = library.takeOutbound()
        #expect(reply.first?.content.jsonValue?["error"]?["code"]?.stringValue == "authentication_required")
    }

    @Test("a server that takes no token (it answers unknown_request) fails the client's stage: it cannot prove the token")
    func serverWithoutToken() {
        var client = run(TokenClientStage(token: "t", id: nil))
        _ = client.start(now: start)
        let id = client.takeOutbound()[0].content.jsonValue?["request_id"] ?? .null
        var answer = marked(.response(ExtensionHeader.authentication, id: id, value: .null))
        answer.content = .json(["value": .null, "error": ["code": "unknown_request", "message": "no handler"]])
        let outcome = client.receive(answer, now: start)
        #expect(failure(outcome)?.reason == .authenticationFailed)
        #expect(failure(outcome)?.message == "the server does not take a token (it answered unknown_request: no handler)")
    }

    @Test("an incompatible version is refused, naming both versions, on either side")
    func versionMismatch() {
        var server = run(TokenServerStage(store: TokenStore(sharedToken: "t")))
        _ = server.start(now: start)
        let hello = marked(.request(
            ExtensionHeader.authentication, id: "0001",
            kwargs: ["step": "hello", "version": 2, "nonce": "abcd"]
        ))
        let helloOutcome = server.receive(hello, now: start)
        let refused = failure(helloOutcome)
        #expect(refused?.reason == .incompatibleVersion)
        #expect(refused?.message == "peer speaks clever-messaging protocol 2, this side speaks 1")

        var client = run(TokenClientStage(token: "t", id: nil))
        _ = client.start(now: start)
        let id = client.takeOutbound()[0].content.jsonValue?["request_id"]?.stringValue ?? ""
        let answer = marked(.response(ExtensionHeader.authentication, id: .string(id), value: ["version": 3, "nonce": "ffff"]))
        let answerOutcome = client.receive(answer, now: start)
        let clientRefused = failure(answerOutcome)
        #expect(clientRefused?.message == "peer speaks clever-messaging protocol 3, this side speaks 1")
        #expect(MessagingError.handshakeFailed(clientRefused!).code == .incompatibleVersion)

        #expect(ProtocolVersion.incompatibility(peer: nil, stage: "x") == nil)
        #expect(ProtocolVersion.incompatibility(peer: 1, stage: "x") == nil)
    }

    @Test("the delivery hello carries the version; a server answering another major version fails it")
    func deliveryHelloVersion() {
        var stage = DeliveryHelloStage(session: "s", received: 0, announce: true, wait: .seconds(1))
        var context = context()
        _ = stage.start(context: &context, now: start)
        let hello = context.takeOutbound()[0]
        #expect(hello.content.jsonValue?["kwargs"]?["version"] == 1)
        let id = hello.content.jsonValue?["request_id"] ?? .null
        let answer = marked(.response(ExtensionHeader.sessionHello, id: id, value: ["acked": 0, "version": 2]))
        let (verdict, consumed) = stage.receive(answer, context: &context, now: start)
        #expect(consumed)
        guard case .fail(let failure) = verdict else { Issue.record("not failed"); return }
        #expect(failure.message == "peer speaks clever-messaging protocol 2, this side speaks 1")
    }
}
