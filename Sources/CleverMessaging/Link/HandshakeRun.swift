import NIOCore

/// One link's handshake, as a pure state machine: runs its stages in order,
/// hands them the frames that arrive, holds the frames that are not theirs,
/// and watches the deadlines. The connection writes the frames the stages send
/// (``takeOutbound()``), and opens or closes the link on the outcome.
package struct HandshakeRun {
    /// Where the handshake stands after an event.
    package enum Outcome {
        /// A stage waits; look again at `deadline` if nothing arrives.
        case waiting(deadline: NIODeadline)
        /// Every stage passed: the link opens, and the held frames are dispatched.
        case passed
        /// The link must close.
        case failed(HandshakeFailure)
    }

    /// The most frames held for after the handshake before it fails (a peer
    /// that talks without end while the link is not open).
    package static let maximumHeldFrames = 1024

    private var stages: [any HandshakeStage]
    private var current = 0
    private var started = false
    /// The context the stages share.
    package private(set) var context: HandshakeContext
    /// When the whole handshake gives up.
    package let deadline: NIODeadline
    /// When the current stage gives up (its own timeout), if it has one.
    private var stageDeadline: NIODeadline?
    /// Frames that were no stage's, in order of arrival.
    package private(set) var held: [Frame] = []
    /// The name of the stage running (for logs).
    package var stageName: String { current < stages.count ? stages[current].name : "handshake" }
    private var finished: Outcome?

    /// A handshake of `stages` that began at `now` and must pass within `timeout`.
    package init(stages: [any HandshakeStage], context: HandshakeContext, timeout: Duration, now: NIODeadline) {
        self.stages = stages
        self.context = context
        self.deadline = now + TimeAmount(timeout)
    }

    /// Starts the first stage (and the next ones while they pass at once).
    package mutating func start(now: NIODeadline) -> Outcome {
        guard !started else { return outcome(now: now) }
        started = true
        return advance(from: nil, now: now)
    }

    /// A frame arrived.
    package mutating func receive(_ frame: Frame, now: NIODeadline) -> Outcome {
        if let finished { return finished }
        if frame.header.extra[ExtensionHeader.capabilities] != nil { context.peerSpeaksExtensions = true }
        guard current < stages.count else { return outcome(now: now) }
        let (verdict, consumed) = stages[current].receive(frame, context: &context, now: now)
        if !consumed {
            held.append(frame)
            if held.count > Self.maximumHeldFrames {
                return finish(.failed(HandshakeFailure(
                    reason: .tooManyFrames, stage: stageName, message: "more than \(Self.maximumHeldFrames) frames before the link opened"
                )))
            }
        }
        return advance(from: verdict, now: now)
    }

    /// A channel event reached the link (a user event from a handler below, such as TLS).
    package mutating func receive(event: Any, now: NIODeadline) -> Outcome {
        if let finished { return finished }
        guard current < stages.count else { return outcome(now: now) }
        let verdict = stages[current].receive(event: event, context: &context, now: now)
        return advance(from: verdict, now: now)
    }

    /// A binary frame began: the handshake takes none.
    package mutating func binaryFrameArrived() -> Outcome {
        if let finished { return finished }
        return finish(.failed(HandshakeFailure(reason: .unexpectedFrame, stage: stageName, message: "binary frame before the link opened")))
    }

    /// Time passed: fails (or asks the stage) when a deadline is reached.
    package mutating func tick(now: NIODeadline) -> Outcome {
        if let finished { return finished }
        if now >= deadline {
            let late = HandshakeFailure(reason: .timedOut, stage: stageName, message: "the link did not pass its handshake in time")
            guard current < stages.count else { return finish(.failed(late)) }
            // The stage running has the last word (an identify stage with the id in
            // hand passes; a token stage names its own reason), but nothing waits on.
            switch stages[current].timedOut(context: &context, now: now) {
            case .continue:
                return finish(.failed(late))
            case .fail(let failure):
                return finish(.failed(failure))
            case .pass:
                let outcome = advance(from: .pass, now: now)
                if case .waiting = outcome {
                    return finish(.failed(HandshakeFailure(reason: .timedOut, stage: stageName, message: late.message)))
                }
                return outcome
            }
        }
        if let stageDeadline, now >= stageDeadline, current < stages.count {
            let verdict = stages[current].timedOut(context: &context, now: now)
            return advance(from: verdict, now: now)
        }
        return outcome(now: now)
    }

    /// Fails the handshake from outside its stages (the link found the peer
    /// unfit, such as a delivery hello naming an incompatible version).
    package mutating func fail(_ failure: HandshakeFailure) -> Outcome {
        if let finished { return finished }
        return finish(.failed(failure))
    }

    /// Changes the shared context (the link keeps it in step with the connection).
    package mutating func updateContext(_ body: (inout HandshakeContext) -> Void) {
        body(&context)
    }

    /// Takes the frames the stages sent since the last call.
    package mutating func takeOutbound() -> [Frame] {
        context.takeOutbound()
    }

    /// Takes the held frames (once the handshake passed).
    package mutating func takeHeld() -> [Frame] {
        defer { held = [] }
        return held
    }

    /// Applies `verdict` of the current stage (`nil`: start the current stage), then starts
    /// the next stages for as long as they pass at once.
    private mutating func advance(from verdict: HandshakeVerdict?, now: NIODeadline) -> Outcome {
        var verdict = verdict
        while current < stages.count {
            if verdict == nil {
                stageDeadline = stages[current].timeout.map { now + TimeAmount($0) }
                verdict = stages[current].start(context: &context, now: now)
            }
            switch verdict! {
            case .continue:
                return outcome(now: now)
            case .fail(let error):
                return finish(.failed(error))
            case .pass:
                current += 1
                stageDeadline = nil
                verdict = nil
            }
        }
        return finish(.passed)
    }

    private mutating func finish(_ outcome: Outcome) -> Outcome {
        finished = outcome
        return outcome
    }

    private func outcome(now: NIODeadline) -> Outcome {
        if let finished { return finished }
        if let stageDeadline, stageDeadline < deadline { return .waiting(deadline: stageDeadline) }
        return .waiting(deadline: deadline)
    }
}
