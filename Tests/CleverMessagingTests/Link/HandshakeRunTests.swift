import Logging
import NIOCore
import Testing

@testable import CleverMessaging

/// A stage for tests: waits for an action frame named `token`, replying `welcome`.
struct TokenStage: HandshakeStage {
    var expected: String
    var timeout: Duration? = nil
    var name: String { "token" }

    mutating func start(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        context.send(.action("hello"))
        return .continue
    }

    mutating func receive(_ frame: Frame, context: inout HandshakeContext, now: NIODeadline) -> (verdict: HandshakeVerdict, consumed: Bool) {
        guard frame.header.action == "token" else { return (.continue, false) }
        guard frame.content.jsonValue?["args"]?[0]?.stringValue == expected else {
            return (.fail(HandshakeFailure(reason: .rejected, stage: name, message: "wrong token")), true)
        }
        context.send(.action("welcome"))
        return (.pass, true)
    }
}

@Suite("Handshake machine and stages")
struct HandshakeRunTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func context() -> HandshakeContext {
        HandshakeContext(link: HandshakeLink(remoteAddress: nil, connectionNumber: 1, linkNumber: 1), logger: Logger(label: "test"))
    }

    func actions(_ frames: [Frame]) -> [String] {
        frames.map { $0.header.action ?? $0.content.jsonValue?["requested_value"]?.stringValue ?? "?" }
    }

    func response(_ id: String, _ name: String, _ value: JSONValue) -> Frame {
        .response(name, id: .string(id), value: value)
    }

    @Test("stages run in order; frames that are no stage's are held for after the handshake")
    func inOrder() {
        var run = HandshakeRun(stages: [CapabilityStage(), TokenStage(expected: "s3cret")], context: context(), timeout: .seconds(10), now: start)
        guard case .waiting(let deadline) = run.start(now: start) else { Issue.record("not waiting"); return }
        #expect(deadline == start + .seconds(10))
        #expect(actions(run.takeOutbound()) == ["hello"])
        guard case .waiting = run.receive(.action("telemetry"), now: start + .seconds(1)) else { Issue.record("not waiting"); return }
        guard case .passed = run.receive(.action("token", args: ["s3cret"]), now: start + .seconds(2)) else { Issue.record("not passed"); return }
        #expect(actions(run.takeOutbound()) == ["welcome"])
        #expect(actions(run.takeHeld()) == ["telemetry"])
    }

    @Test("a stage's failure is the handshake's, with its typed reason")
    func rejected() {
        var run = HandshakeRun(stages: [TokenStage(expected: "s3cret")], context: context(), timeout: .seconds(10), now: start)
        _ = run.start(now: start)
        guard case .failed(let error) = run.receive(.action("token", args: ["guess"]), now: start) else { Issue.record("not failed"); return }
        #expect(error.reason == .rejected)
        #expect(error.stage == "token")
    }

    @Test("the whole handshake times out; a stage's own timeout comes first when shorter")
    func timeouts() {
        var run = HandshakeRun(stages: [TokenStage(expected: "x")], context: context(), timeout: .seconds(10), now: start)
        _ = run.start(now: start)
        guard case .waiting = run.tick(now: start + .milliseconds(9_999)) else { Issue.record("early"); return }
        guard case .failed(let error) = run.tick(now: start + .seconds(10)) else { Issue.record("no timeout"); return }
        #expect(error.reason == .timedOut)

        var short = HandshakeRun(stages: [TokenStage(expected: "x", timeout: .seconds(2))], context: context(), timeout: .seconds(10), now: start)
        guard case .waiting(let deadline) = short.start(now: start) else { Issue.record("not waiting"); return }
        #expect(deadline == start + .seconds(2))
        guard case .failed(let stageError) = short.tick(now: start + .seconds(2)) else { Issue.record("no stage timeout"); return }
        #expect(stageError.stage == "token")
    }

    @Test("a binary frame, or too many frames, before the link opens fail the handshake")
    func unexpected() {
        var run = HandshakeRun(stages: [TokenStage(expected: "x")], context: context(), timeout: .seconds(10), now: start)
        _ = run.start(now: start)
        guard case .failed(let error) = run.binaryFrameArrived() else { Issue.record("binary accepted"); return }
        #expect(error.reason == .unexpectedFrame)

        var chatty = HandshakeRun(stages: [TokenStage(expected: "x")], context: context(), timeout: .seconds(10), now: start)
        _ = chatty.start(now: start)
        var outcome = HandshakeRun.Outcome.passed
        for _ in 0...HandshakeRun.maximumHeldFrames { outcome = chatty.receive(.action("spam"), now: start) }
        guard case .failed(let spam) = outcome else { Issue.record("held without bound"); return }
        #expect(spam.reason == .tooManyFrames)
    }

    @Test("the capability stage passes at once by default; given a wait, it passes on the first frame or when the wait is over")
    func capability() {
        var run = HandshakeRun(stages: [CapabilityStage()], context: context(), timeout: .seconds(10), now: start)
        guard case .passed = run.start(now: start) else { Issue.record("waited"); return }

        var waiting = HandshakeRun(stages: [CapabilityStage(wait: .milliseconds(200))], context: context(), timeout: .seconds(10), now: start)
        guard case .waiting(let deadline) = waiting.start(now: start) else { Issue.record("did not wait"); return }
        #expect(deadline == start + .milliseconds(200))
        let marked = FrameHeader(contentType: .json, messageType: .message, action: "hello", extra: [ExtensionHeader.capabilities: .integer(1)])
        guard case .passed = waiting.receive(Frame(header: marked, content: .json(["args": [], "kwargs": [:]])), now: start) else {
            Issue.record("not passed on the first frame")
            return
        }
        #expect(waiting.context.peerSpeaksExtensions)
        #expect(waiting.takeHeld().count == 1, "the first frame is dispatched once open")

        var silent = HandshakeRun(stages: [CapabilityStage(wait: .milliseconds(200))], context: context(), timeout: .seconds(10), now: start)
        _ = silent.start(now: start)
        guard case .passed = silent.tick(now: start + .milliseconds(200)) else { Issue.record("a silent peer was refused"); return }
        #expect(!silent.context.peerSpeaksExtensions)
        #expect(CapabilityStage.shows(marked))
    }

    @Test("identify asks id and clover_dir in one go and records the identity")
    func identify() {
        var run = HandshakeRun(stages: [IdentifyStage(timeout: .seconds(5))], context: context(), timeout: .seconds(10), now: start)
        guard case .waiting(let deadline) = run.start(now: start) else { Issue.record("not waiting"); return }
        #expect(deadline == start + .seconds(5))
        let sent = run.takeOutbound()
        #expect(actions(sent) == ["id", "clover_dir"])
        #expect(sent.map { $0.content.jsonValue?["request_id"] } == [.string("0001"), .string("0002")])
        guard case .waiting = run.receive(response("0001", "id", "clover-7"), now: start) else { Issue.record("passed early"); return }
        guard case .passed = run.receive(response("0002", "clover_dir", "/home/pi/clover"), now: start) else { Issue.record("not passed"); return }
        #expect(run.context.result(IdentifyStage.Identity.self) == IdentifyStage.Identity(id: "clover-7", cloverDirectory: "/home/pi/clover"))
        #expect(run.context.nextRequestNumber == 3, "request ids share the connection's counter")
    }

    @Test("identify: a null id or an error fails; a numeric id is taken as text; clover_dir unanswered passes at the timeout")
    func identifyEdges() {
        var null = HandshakeRun(stages: [IdentifyStage(timeout: .seconds(5))], context: context(), timeout: .seconds(10), now: start)
        _ = null.start(now: start)
        guard case .failed(let error) = null.receive(response("0001", "id", .null), now: start) else { Issue.record("null id taken"); return }
        #expect(error.reason == .rejected)

        var numeric = HandshakeRun(stages: [IdentifyStage(timeout: .seconds(5))], context: context(), timeout: .seconds(10), now: start)
        _ = numeric.start(now: start)
        _ = numeric.receive(response("0001", "id", 7), now: start)
        guard case .passed = numeric.tick(now: start + .seconds(5)) else { Issue.record("clover_dir required"); return }
        #expect(numeric.context.result(IdentifyStage.Identity.self) == IdentifyStage.Identity(id: "7", cloverDirectory: nil))

        var silent = HandshakeRun(stages: [IdentifyStage(timeout: .seconds(5))], context: context(), timeout: .seconds(10), now: start)
        _ = silent.start(now: start)
        guard case .failed(let timeout) = silent.tick(now: start + .seconds(5)) else { Issue.record("no id taken"); return }
        #expect(timeout.reason == .timedOut)
        #expect(timeout.message == "no answer to id in 5 s")
    }
}

/// A stage that waits for a channel event, as a TLS stage waits for the TLS handshake.
struct EventStage: HandshakeStage {
    var name: String { "event" }
    mutating func start(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict { .continue }
    mutating func receive(event: Any, context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        guard let text = event as? String else { return .continue }
        context.record(text)
        return .pass
    }
}

@Suite("Handshake events")
struct HandshakeEventTests {
    @Test("a stage may wait for a channel event (as TLS would) and record what it learned")
    func event() {
        let start = NIODeadline.uptimeNanoseconds(1_000)
        let context = HandshakeContext(link: HandshakeLink(remoteAddress: nil, connectionNumber: 1, linkNumber: 1), logger: Logger(label: "test"))
        var run = HandshakeRun(stages: [EventStage()], context: context, timeout: .seconds(1), now: start)
        guard case .waiting = run.start(now: start) else { Issue.record("passed early"); return }
        guard case .waiting = run.receive(event: 42, now: start) else { Issue.record("passed on another event"); return }
        guard case .passed = run.receive(event: "tls: h2", now: start) else { Issue.record("not passed"); return }
        #expect(run.context.result(String.self) == "tls: h2")
    }
}
