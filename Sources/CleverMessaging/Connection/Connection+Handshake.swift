import Logging
import NIOCore

extension Connection {
    // MARK: - Handshake

    /// Where a frame that arrived goes, as the link's handshake decides.
    enum HandshakeDelivery {
        /// The link is open: dispatch the frame as usual.
        case deliver
        /// The handshake took the frame (a stage consumed it, or it is held for
        /// after the handshake); `linkOpen` tells whether the link opened meanwhile.
        case taken(linkOpen: Bool)
    }

    /// A JSON frame arrived on a link that was not open yet when last seen by
    /// ``ConnectionHandler``. Runs on the event loop.
    func receiveWhileHandshaking(_ frame: @autoclosure () -> Frame) -> HandshakeDelivery {
        switch state.withLockedValue({ $0.handshakeStanding }) {
        case .opened: return .deliver
        case .ended: return .taken(linkOpen: false)  // failed or closed: dropped, the link is going
        case .running: break
        }
        let now = self.eventLoop.now
        let frame = frame()
        if frame.header.messageType == .request {
            // A client's delivery hello is answered during the server's own handshake (it may wait for the client).
            let content = ContentMembers(frame.content.jsonValue)
            if isDeliveryHello(frame.header, requestedValue: content.requestedValue?.stringValue), let id = content.requestID,
               !awaitsAuthentication() {
                if let failure = ProtocolVersion.incompatibility(peer: content.kwargs[ProtocolVersion.key], stage: "delivery") {
                    refuseDeliveryHello(id: id, version: content.kwargs[ProtocolVersion.key], failure)
                    return .taken(linkOpen: stepHandshake(now: now) { $0.fail(failure) })
                }
                answerDeliveryHello(id: id, kwargs: content.kwargs)
                return .taken(linkOpen: false)
            }
        }
        return .taken(linkOpen: stepHandshake(now: now) { $0.receive(frame, now: now) })
    }

    /// A user event reached the link: while it handshakes, the stage running sees it.
    func eventWhileHandshaking(_ event: Any) {
        guard state.withLockedValue({ $0.handshakeStanding }) == .running else { return }
        let now = eventLoop.now
        stepHandshake(now: now) { $0.receive(event: event, now: now) }
    }

    /// A binary frame began on a link still handshaking: the handshake fails.
    /// - Returns: whether the link is open (then the frame is handled as usual).
    func binaryFrameWhileHandshaking() -> Bool {
        switch state.withLockedValue({ $0.handshakeStanding }) {
        case .opened: return true
        case .ended: return false
        case .running: break
        }
        _ = stepHandshake(now: self.eventLoop.now) { $0.binaryFrameArrived() }
        return false
    }

    /// Runs one step of the link's handshake machine, writes the frames its
    /// stages sent, and acts on the outcome. Runs on the event loop.
    /// - Returns: whether the link is open now.
    @discardableResult
    func stepHandshake(now: NIODeadline, _ step: (inout HandshakeRun) -> HandshakeRun.Outcome) -> Bool {
        var framesSent = (frames: 0, requests: 0)
        let work = state.withLockedValue { s -> (HandshakeRun.Outcome, ByteBuffer, any Channel, String)? in
            guard var run = s.handshake.take()?.value.value, let channel = s.channel else { return nil }
            run.syncRequestNumber(s.pending.nextNumber, peerSpeaksExtensions: s.peerSpeaksExtensions)
            let outcome = step(&run)
            s.pending.skipNumbers(to: run.context.nextRequestNumber)
            if run.context.peerSpeaksExtensions { s.peerSpeaksExtensions = true }
            var bytes = ByteBuffer()
            let frames = run.takeOutbound()
            if metrics != nil { framesSent = (frames.count, frames.count { $0.header.messageType == .request }) }
            for frame in frames {
                // A stage's frame that cannot be encoded fails the handshake below.
                do { try s.writer.write(frame, into: &bytes) } catch { return (.failed(HandshakeFailure(reason: .sendFailed, stage: run.stageName, message: "\(error)")), bytes, channel, run.stageName) }
            }
            let name = run.stageName
            switch outcome {
            case .passed:
                s.lastHandshakeFailure = nil
                s.heldInbound = run.takeHeld()
                s.handshakeResults = run.context.results
                if let identity = run.context.result(IdentifyStage.Identity.self) { s.peerID = identity.id }
                if let agreement = run.context.result(DeliveryHelloStage.Agreement.self) {
                    activateDelivery(&s, peerReceived: agreement.peerReceived)
                }
                // Closed meanwhile (draining): the link is not opened, its queue stays held.
                guard s.lifecycle.handshakePassed() == .open else { return (.waiting(deadline: run.deadline), bytes, channel, name) }
            case .waiting, .failed:
                s.handshake = OutOfLine(NIOLoopBound(run, eventLoop: eventLoop))
            }
            return (outcome, bytes, channel, name)
        }
        guard let (outcome, bytes, channel, stage) = work else { return state.withLockedValue { $0.lifecycle.isOpen } }
        if bytes.readableBytes > 0 {
            channel.writeAndFlush(bytes, promise: nil)
            metrics?.sent(frames: framesSent.frames, requests: framesSent.requests, bytes: bytes.readableBytes)
        }
        switch outcome {
        case .waiting(let deadline):
            armHandshakeTimer(deadline)
            return false
        case .passed:
            logger.trace("handshake passed", metadata: linkMetadata)
            openLink(now: now)
            return true
        case .failed(let error):
            failHandshake(error, stage: stage, channel: channel)
            return false
        }
    }

    /// Closes a link whose handshake failed; whoever waits for a link learns why.
    private func failHandshake(_ error: HandshakeFailure, stage: String, channel: any Channel) {
        let waiters = state.withLockedValue { s -> [EventLoopPromise<Void>] in
            guard s.channel === channel, s.lifecycle.handshakeFailed() == .closeLink else { return [] }
            s.handshake = nil
            s.lastHandshakeFailure = error
            let waiters = s.linkWaiters
            s.linkWaiters = []
            return waiters
        }
        var metadata = linkMetadata
        metadata["stage"] = "\(stage)"
        metadata["reason"] = "\(error.reason)"
        // A refused duplicate drone was logged by the station already (once per host).
        logger.log(level: error.reason == .duplicateID ? .debug : .warning, "link closed: \(error)", metadata: metadata)
        for waiter in waiters { waiter.fail(MessagingError.handshakeFailed(error)) }
        channel.close(promise: nil)
    }

    /// Closes an open link for a reason a handshake stage would have given (a
    /// protocol version learnt from a delivery hello exchanged on the open
    /// link): recorded as ``lastHandshakeFailure``, so that the client backs
    /// off and the server reports the refusal. Runs on the event loop.
    func failOpenLink(_ failure: HandshakeFailure) {
        let channel = state.withLockedValue { s -> (any Channel)? in
            s.lastHandshakeFailure = failure
            return s.channel
        }
        var metadata = linkMetadata
        metadata["stage"] = "\(failure.stage)"
        metadata["reason"] = "\(failure.reason)"
        logger.warning("link closed: \(failure)", metadata: metadata)
        channel?.close(promise: nil)
    }

    /// Arms the handshake timer for `deadline` (earlier than the one armed, or none armed).
    private func armHandshakeTimer(_ deadline: NIODeadline) {
        let target = state.withLockedValue { s -> LinkTimerTarget? in
            guard let target = s.linkTarget, s.handshakeTimer.arm(deadline) else { return nil }
            return target
        }
        if let target { scheduleLinkTimer(deadline, target: target, kind: .handshake) }
    }

    /// A link timer fired: when the handshake's is due, the machine checks its deadlines.
    func handshakeTimerFired(now: NIODeadline) {
        let due = state.withLockedValue { s -> Bool in
            s.handshakeTimer.fire(now: now) && s.handshake != nil
        }
        guard due else { return }
        stepHandshake(now: now) { $0.tick(now: now) }
    }

    /// A result a handshake stage of the current (or last) link recorded,
    /// such as ``IdentifyStage/Identity``.
    /// - Parameter type: the result's type.
    /// - Returns: the result, or `nil` when no stage recorded one.
    public func handshakeResult<Result: Sendable>(_ type: Result.Type) -> Result? {
        state.withLockedValue { $0.handshakeResults[ObjectIdentifier(type)] } as? Result
    }
}

extension HandshakeRun {
    /// Brings the context up to date with the connection before a step
    /// (requests made by the user meanwhile took numbers; frames showed the extensions).
    mutating func syncRequestNumber(_ next: Int, peerSpeaksExtensions: Bool) {
        updateContext { context in
            context.nextRequestNumber = next
            if peerSpeaksExtensions { context.peerSpeaksExtensions = true }
        }
    }
}

/// Where the current link's handshake stands, for what arrives on the link.
enum HandshakeStanding {
    /// The link opened: frames are dispatched.
    case opened
    /// A stage runs: frames go to it.
    case running
    /// The handshake failed, or the connection closed before it passed: what arrives is dropped.
    case ended
}

extension Connection.State {
    /// Where the current link's handshake stands.
    var handshakeStanding: HandshakeStanding {
        if linkOpened { return .opened }
        return handshake != nil && lifecycle.phase == .handshaking ? .running : .ended
    }
}
