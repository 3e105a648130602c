import Logging
import NIOCore

/// Which side of acknowledged delivery a connection is (``ConnectionConfiguration/delivery``).
package enum DeliveryRole: Sendable {
    /// A client's connection: it made the session id and offers it in each link's handshake.
    case client(session: String)
    /// A server's connection: it answers a client's offer from the server's table.
    case server(DeliverySessions)
}

extension Connection {
    // MARK: - Acknowledged delivery

    /// Whether the current link agreed to acknowledged delivery: actions sent
    /// now get receipts whose ``SendReceipt/guarantee`` is ``DeliveryGuarantee/delivered``.
    public var deliversAcknowledged: Bool { state.withLockedValue { $0.deliveryActive } }

    /// The counts of this connection's acknowledged delivery (all zero when no link agreed to it).
    public var deliveryStatistics: DeliveryStatistics {
        state.withLockedValue { $0.delivery?.statistics ?? DeliveryStatistics() }
    }

    /// The delivery stage of a client's link that is coming up, if any. A link
    /// that resumes a session, or whose server the configuration says is of
    /// this library, is held until the server answered the hello (what the
    /// server did not receive goes again first). Any other first link opens
    /// at once, and offers the session on the open link as soon as the server
    /// shows `x-clever` (``offerDeliveryAfterOpen()``): a station's first
    /// requests are answered without waiting a round trip for the hello's answer.
    func deliveryStage() -> (any HandshakeStage)? {
        guard case .client(let session) = deliveryRole else { return nil }
        let announced = configuration.delivery.peerIsOfThisLibrary
        let resuming = state.withLockedValue { s -> (received: UInt64, known: Bool)? in
            guard s.delivery != nil || announced else { return nil }
            return (s.delivery?.receiver.highWater ?? 0, s.peerSpeaksExtensions)
        }
        guard let (received, known) = resuming else { return nil }
        return DeliveryHelloStage(
            session: session,
            received: received,
            announce: known || announced,
            wait: configuration.delivery.helloWait
        )
    }

    /// The link agreed to acknowledged delivery, and the peer received through
    /// `peerReceived`: what it has is settled, the rest is queued again ahead of
    /// everything else. Runs under the state lock.
    func activateDelivery(_ s: inout State, peerReceived: UInt64) {
        if s.delivery == nil, case .client(let session) = deliveryRole {
            s.delivery = DeliverySession(id: session, configuration: configuration.delivery)
        }
        guard s.delivery != nil else { return }
        s.deliveryActive = true
        let settled = s.delivery!.window.acknowledge(through: peerReceived)
        s.delivery!.delivered += settled
        s.delivery!.ledger.acknowledge(through: s.delivery!.window.acknowledged)
        let count = s.delivery!.window.count
        if count > 0 {
            s.delivery!.resent += count
            // What the peer did not receive, copied from the window's chunks, ahead of what was queued.
            var bytes = ByteBuffer()
            bytes.reserveCapacity(s.delivery!.window.bytes + s.outbound.bytes.readableBytes)
            s.delivery!.window.writeUnacknowledged(into: &bytes)
            bytes.writeBuffer(&s.outbound.bytes)
            s.outbound.bytes = bytes
        }
    }

    /// The link went down: acknowledged delivery stops on it. Runs under the
    /// state lock. A server's connection keeps its session until the server's
    /// table takes it (``DeliverySessions/store(takingFrom:now:)``).
    func deliveryLinkDown(_ s: inout State) {
        s.deliveryActive = false
        s.ackTimer.disarm()
        s.delivery?.receiver.linkDown()
    }

    /// A server's connection whose link went down gives its session to the
    /// server's table (under the table's lock, see ``DeliverySessions/store(takingFrom:now:)``).
    /// - Returns: the session, if it still has one (a claim may have taken it).
    func takeDelivery() -> DeliverySession? {
        state.withLockedValue { s in
            defer { s.delivery = nil }
            return s.delivery
        }
    }

    /// Gives this connection's session to `successor`, the connection of the
    /// same client's new link, and closes this one's link (it died without this
    /// side noticing). An action queued here from now on (a sender that looked
    /// up the client's connection before the new link replaced it) goes to
    /// `successor`, numbered in the session, instead of plainly onto the dying link.
    /// - Parameter successor: the connection the session goes to.
    /// - Returns: the session, or `nil` when it has none.
    func surrenderDelivery(to successor: Connection) -> DeliverySession? {
        let (session, channel) = state.withLockedValue { s -> (DeliverySession?, (any Channel)?) in
            defer {
                s.delivery = nil
                s.deliveryActive = false
                s.ackTimer.disarm()
                s.deliverySurrendered = true
                s.deliverySuccessor = successor
            }
            return (s.delivery, s.channel)
        }
        channel?.close(promise: nil)
        return session
    }

    /// Fails the receipts of a session that ends with its connection.
    static func failDelivery(_ session: DeliverySession?, with error: MessagingError) {
        guard var session else { return }
        _ = session.window.removeAll()
        session.ledger.fail(error)
    }

    /// A client whose link opened without acknowledged delivery (a first link,
    /// or one whose server showed nothing within the handshake's wait), to a
    /// server that has shown `x-clever` by now or that the configuration says
    /// is of this library: offers the session in a request, once per link; the
    /// answer starts acknowledged delivery on the link. Runs on the event loop.
    func offerDeliveryAfterOpen() {
        guard case .client(let session) = deliveryRole else { return }
        let offer = state.withLockedValue { s -> (link: Int, received: UInt64)? in
            let link = s.lifecycle.linkCount
            guard s.linkOpened, !s.deliveryActive, s.peerSpeaksExtensions || configuration.delivery.peerIsOfThisLibrary,
                  s.deliveryOfferedOnLink != link
            else { return nil }
            s.deliveryOfferedOnLink = link
            return (link, s.delivery?.receiver.highWater ?? 0)
        }
        guard let offer else { return }
        let completion = PendingRequests.Completion.callback { [self] result in
            switch result {
            case .failure(.remote(let refusal)) where refusal.code == HandshakeFailure.Reason.incompatibleVersion.rawValue:
                failOpenLink(HandshakeFailure(reason: .incompatibleVersion, stage: "delivery", message: "the server refused: \(refusal.message)"))
            case .success(.object(let answer)):
                if let failure = ProtocolVersion.incompatibility(peer: answer[ProtocolVersion.key], stage: "delivery") {
                    failOpenLink(failure)
                    return
                }
                guard let acked = answer["acked"]?.integerValue, acked >= 0 else { return }
                deliveryAgreed(onLink: offer.link, peerReceived: UInt64(acked))
            default:
                break
            }
        }
        _ = try? startRequest(
            ExtensionHeader.sessionHello, args: [],
            kwargs: [
                "session": .string(session), "acked": .integer(Int(truncatingIfNeeded: offer.received)),
                ProtocolVersion.key: .integer(ProtocolVersion.current),
            ],
            completion: completion, timeout: nil
        )
    }

    /// The server answered a session offered after the link opened.
    private func deliveryAgreed(onLink link: Int, peerReceived: UInt64) {
        let flush = state.withLockedValue { s -> Bool in
            guard s.linkOpened, !s.deliveryActive, s.lifecycle.linkCount == link else { return false }
            activateDelivery(&s, peerReceived: peerReceived)
            return s.outbound.bytes.readableBytes > 0 && s.outbound.needsFlush()
        }
        if flush { scheduleFlush() }
        logger.debug("acknowledged delivery: session attached after the link opened", metadata: linkMetadata)
    }

    // MARK: Sending

    /// Queues an action message: numbered and kept until acknowledged when the
    /// link agreed to acknowledged delivery (or the connection has a session and
    /// its next link is not open yet: it goes with the resends), plain otherwise.
    /// - Parameters:
    ///   - action: the action name.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - awaited: whether the caller waits for the write.
    ///   - sequenced: `false` for an action the next one supersedes (a
    ///     telemetry record): it goes plainly even on a link with acknowledged
    ///     delivery, not numbered, not kept for resending and not acknowledged
    ///     (its receipt says ``DeliveryGuarantee/written``).
    /// - Returns: the receipt.
    /// - Throws: ``MessagingError``, ``MessagingError/resendWindowFull(count:bytes:)`` among them.
    func enqueueAction(_ action: String, args: [JSONValue], kwargs: JSONObject, awaited: Bool, sequenced: Bool = true) throws(MessagingError) -> SendReceipt {
        try enqueueAction(action, arguments: .values(args: args, kwargs: kwargs), awaited: awaited, sequenced: sequenced)
    }

    /// Queues an action message with its arguments as values or as encoded
    /// text (see ``enqueueAction(_:args:kwargs:awaited:sequenced:)``).
    func enqueueAction(_ action: String, arguments: ActionArguments, awaited: Bool, sequenced: Bool = true) throws(MessagingError) -> SendReceipt {
        switch try queueActionHere(action, arguments: arguments, awaited: awaited, sequenced: sequenced) {
        case .queued(let receipt, let needsFlush):
            if needsFlush { scheduleFlush() }
            return receipt
        case .passOn(let successor):
            return try passOn(to: successor, action, arguments: arguments, awaited: awaited, sequenced: sequenced)
        }
    }

    /// Where an action went.
    private enum Queued {
        /// Queued on this connection; `needsFlush`: a flush must be scheduled.
        case queued(SendReceipt, needsFlush: Bool)
        /// Not queued: this connection's session went to `successor`, and the action goes there too.
        case passOn(successor: Connection)
    }

    /// Queues an action on this connection, unless its session went to another
    /// (see ``enqueueAction(_:args:kwargs:awaited:sequenced:)``); the flush is left to the caller.
    /// - Parameter plainFrame: the action already encoded without delivery keys (a broadcast's), if any.
    private func queueActionHere(
        _ action: String, arguments: ActionArguments, reusing plainFrame: ByteBuffer? = nil, awaited: Bool, sequenced: Bool = true
    ) throws(MessagingError) -> Queued {
        try withState { s throws(MessagingError) -> Queued in
            if s.deliverySurrendered { return .passOn(successor: try Self.successor(&s)) }
            try self.checkCanQueue(&s)
            let (receipt, needsFlush) = try self.queueAction(
                &s, action, arguments: arguments, reusing: plainFrame, awaited: awaited, sequenced: sequenced
            )
            return .queued(receipt, needsFlush: needsFlush)
        }
    }

    /// Queues an action on `successor`, the connection this one's session went
    /// to (or on the one it went to from there), outside this connection's lock
    /// (a connection's lock is never taken under another's) and under the
    /// server's session table's lock: the session is attached to `successor` by
    /// then, and numbers the action.
    private func passOn(
        to successor: Connection, _ action: String, arguments: ActionArguments, awaited: Bool, sequenced: Bool = true
    ) throws(MessagingError) -> SendReceipt {
        func queue() throws(MessagingError) -> SendReceipt {
            var target = successor
            while true {
                do throws(MessagingError) {
                    switch try target.queueActionHere(action, arguments: arguments, awaited: awaited, sequenced: sequenced) {
                    case .queued(let receipt, let needsFlush):
                        if needsFlush { target.scheduleFlush() }
                        return receipt
                    case .passOn(let next):
                        target = next
                    }
                } catch .closed {
                    // The successor's link dropped too: the session waits in the server's table.
                    throw .connectionLost
                }
            }
        }
        guard case .server(let sessions) = deliveryRole else { return try queue() }
        return try sessions.passOn(queue)
    }

    /// The connection this one's session went to (see ``surrenderDelivery(to:)``).
    /// Runs under the state lock.
    /// - Throws: ``MessagingError/connectionLost`` when that connection is gone
    ///   (its link dropped too: the session waits in the server's table, and
    ///   this connection cannot number actions in it).
    private static func successor(_ s: inout State) throws(MessagingError) -> Connection {
        guard let successor = s.deliverySuccessor else { throw .connectionLost }
        return successor
    }

    /// Queues an action encoded once for many connections (a broadcast), and
    /// leaves the flush to the caller (see ``enqueueEncodedDeferringFlush(_:)``).
    /// On a link with acknowledged delivery the frame gets this connection's
    /// header, with its sequence number, around the same encoded content.
    /// - Parameters:
    ///   - bytes: the action's frame, as encoded for every peer.
    ///   - action: the action name.
    ///   - arguments: the action's arguments (encoded again for a connection whose session moved on).
    /// - Returns: the receipt, and whether the caller must run ``flushOutbound()`` on ``eventLoop``.
    /// - Throws: ``MessagingError`` when the action cannot be queued.
    package func enqueueActionDeferringFlush(
        _ bytes: ByteBuffer,
        action: String,
        arguments: ActionArguments
    ) throws(MessagingError) -> (receipt: SendReceipt, needsFlush: Bool) {
        switch try queueActionHere(action, arguments: arguments, reusing: bytes, awaited: false) {
        case .queued(let receipt, let needsFlush):
            return (receipt, needsFlush)
        case .passOn(let successor):
            // The session moved to the client's newer link: the action goes there (which flushes it itself).
            return (try passOn(to: successor, action, arguments: arguments, awaited: false), false)
        }
    }

    /// Queues an action under the state lock (see ``enqueueAction(_:args:kwargs:awaited:sequenced:)``).
    /// - Returns: the receipt, and whether a flush must be scheduled.
    private func queueAction(
        _ s: inout State,
        _ action: String,
        arguments: ActionArguments,
        reusing plainFrame: ByteBuffer? = nil,
        awaited: Bool,
        sequenced: Bool = true
    ) throws(MessagingError) -> (SendReceipt, Bool) {
        guard sequenced, s.delivery != nil, s.deliveryActive || !s.linkOpened else {
            if awaited { s.outbound.flushAwaited = true }
            if let plainFrame {
                s.outbound.append(frames: plainFrame)
            } else {
                do throws(FrameEncodingError) {
                    try s.writer.writeAction(action, arguments: arguments, into: &s.outbound.bytes)
                } catch {
                    throw .encoding(error)
                }
            }
            return self.takeReceipt(&s)
        }
        let owed = s.deliveryActive && s.delivery!.receiver.ackOwed ? s.delivery!.receiver.highWater : nil
        let sequence = s.delivery!.window.nextSequence
        do {
            // Encoded once, into the window; copied from there into the link's queue.
            func encode(_ writer: inout FrameWriter, _ frames: inout ByteBuffer) throws(FrameEncodingError) {
                if let plainFrame, try writer.writeAction(action, reusing: plainFrame, sequence: sequence, acknowledged: owed, into: &frames) {
                    // The plain frame's content, reused.
                } else {
                    try writer.writeAction(action, arguments: arguments, sequence: sequence, acknowledged: owed, into: &frames)
                }
            }
            if s.deliveryActive {
                _ = try s.delivery!.window.append(with: &s.writer, copyingInto: &s.outbound.bytes, encoding: encode)
            } else {
                _ = try s.delivery!.window.append(with: &s.writer, encoding: encode)
            }
        } catch {
            switch error {
            case .full(let full): throw full
            case .encoding(let encoding): throw .encoding(encoding)
            }
        }
        s.delivery!.sent += 1
        if owed != nil { _ = s.delivery!.receiver.takePiggyback() }
        let ledger = s.delivery!.ledger
        guard s.deliveryActive else {
            // No link open: the frame goes with the next link's resends.
            return (SendReceipt(write: nil, ledger: ledger, sequence: sequence), false)
        }
        if awaited { s.outbound.flushAwaited = true }
        let (written, flush) = self.takeReceipt(&s)
        return (SendReceipt(write: written.write, ledger: ledger, sequence: sequence), flush)
    }

    // MARK: Receiving

    /// Looks at the delivery keys of an action message that arrived: settles
    /// what the peer acknowledged, and tells whether the action is to run (not
    /// a duplicate, nor an acknowledgement frame). The acknowledgement it owes
    /// is decided once per read, in ``deliveryReadEnded(_:now:bytesRead:)``.
    /// Runs on the event loop.
    func acceptDelivered(_ header: FrameHeader) -> Bool {
        // Typed as the header was read (the numbers are non-negative integers there).
        var acked = header.deliveryAcknowledgement
        var sequence = header.deliverySequence
        if acked == nil || sequence == nil, Self.mayHoldDeliveryKeys(header.extra) {
            // A header made in memory with the numbers among its extra keys, or a
            // value of another type (which counts for nothing, as it never did).
            for (key, value) in header.extra {
                guard let number = value.integerValue, number > 0 else { continue }
                switch DeliveryHeaderKey(name: key) {
                case .sequence?: sequence = sequence ?? UInt64(number)
                case .acknowledged?: acked = acked ?? UInt64(number)
                case nil: continue
                }
            }
        }
        let isAckFrame = header.action.map { Self.isName($0, ExtensionHeader.acknowledged) } ?? false
        // Only a positive number settles or runs anything; an acknowledgement frame runs nothing.
        if acked == 0 { acked = nil }
        if sequence == 0 || isAckFrame { sequence = nil }
        guard acked != nil || sequence != nil else { return !isAckFrame }
        return state.withLockedValue { s -> Bool in
            guard s.delivery != nil else { return !isAckFrame }
            if let acked {
                let settled = s.delivery!.window.acknowledge(through: acked)
                if settled > 0 {
                    s.delivery!.delivered += settled
                    s.delivery!.ledger.acknowledge(through: s.delivery!.window.acknowledged)
                }
            }
            guard let sequence else { return !isAckFrame }
            guard s.delivery!.receiver.received(sequence: sequence) == .run else {
                s.delivery!.duplicatesDropped += 1
                return false
            }
            return true
        }
    }

    /// Whether extra header keys may hold a delivery key: any key but the
    /// extension marker alone (which every frame of this library carries).
    @inline(__always)
    static func mayHoldDeliveryKeys(_ extra: JSONObject) -> Bool {
        switch extra.count {
        case 0: return false
        case 1: return !isName(extra.keys[0], ExtensionHeader.capabilities)
        default: return true
        }
    }

    /// A read from the link ended: the acknowledgement owed goes now when the
    /// read brought enough, else its timer is armed (``DeliveryReceiver/readEnded(now:bytesRead:)``).
    /// Runs under the state lock, on the event loop, before the read's flush.
    /// - Returns: the acknowledgement timer to schedule, if any.
    func deliveryReadEnded(_ s: inout State, now: NIODeadline, bytesRead: Int) -> (LinkTimerTarget, NIODeadline)? {
        guard s.deliveryActive, s.delivery?.receiver.ackOwed == true else { return nil }
        switch s.delivery!.receiver.readEnded(now: now, bytesRead: bytesRead) {
        case .none:
            return nil
        case .acknowledge(let ack):
            try? s.writer.writeAction(ExtensionHeader.acknowledged, args: [], kwargs: [:], sequence: nil, acknowledged: ack, into: &s.outbound.bytes)
            return nil
        case .armTimer(let due):
            guard let target = s.linkTarget, s.ackTimer.arm(due) else { return nil }
            return (target, due)
        }
    }

    /// A link timer fired: when the acknowledgement timer is due, an
    /// acknowledgement still owed goes in a frame of its own.
    func ackTimerFired(now: NIODeadline) {
        let flush = state.withLockedValue { s -> Bool in
            guard s.ackTimer.fire(now: now), s.deliveryActive, let ack = s.delivery?.receiver.timerFired() else { return false }
            try? s.writer.writeAction(ExtensionHeader.acknowledged, args: [], kwargs: [:], sequence: nil, acknowledged: ack, into: &s.outbound.bytes)
            return s.outbound.needsFlush()
        }
        // On the event loop already (a link timer): written now, not in one more task per link.
        if flush { flushOutbound() }
    }

    /// Whether a request is a client's delivery hello, for a server that keeps sessions.
    func isDeliveryHello(_ header: FrameHeader, requestedValue: String?) -> Bool {
        guard case .server = deliveryRole, let requestedValue, Self.isName(requestedValue, ExtensionHeader.sessionHello) else { return false }
        return CapabilityStage.shows(header)
    }

    /// A client offered its session (during the link's handshake, or after):
    /// the server's connection takes the session from the table, answers how
    /// far it received, and queues again what the client has not received.
    /// Runs on the event loop.
    func answerDeliveryHello(id: JSONValue, kwargs: JSONObject) {
        guard case .server(let sessions) = deliveryRole,
              let sessionID = kwargs["session"]?.stringValue, !sessionID.isEmpty,
              let acked = kwargs["acked"]?.integerValue, acked >= 0
        else {
            replyError(to: ExtensionHeader.sessionHello, id: id, RemoteError(code: RemoteError.Code.handlerFailed, message: "malformed session hello"))
            return
        }
        // Offered again on the same link (a late answer to the handshake's offer): the session stays.
        let current = state.withLockedValue { s in s.delivery?.id == sessionID ? s.delivery : nil }
        var replaced: DeliverySession?
        // Attaches `session` (unless it is attached already) and queues the answer.
        func attach(_ session: DeliverySession) -> ((any Channel)?, ByteBuffer?, Bool) {
            state.withLockedValue { s -> ((any Channel)?, ByteBuffer?, Bool) in
                // Offered again on the same link: answered, and the session left as it is.
                let again = s.delivery?.id == session.id
                if !again {
                    replaced = s.delivery
                    s.delivery = session
                    activateDelivery(&s, peerReceived: UInt64(acked))
                }
                var reply = ByteBuffer()
                try? s.writer.writeResponse(
                    ExtensionHeader.sessionHello, id: id,
                    value: .object([
                        "acked": .integer(Int(truncatingIfNeeded: s.delivery!.receiver.highWater)),
                        ProtocolVersion.key: .integer(ProtocolVersion.current),
                    ]), into: &reply
                )
                guard s.linkOpened else {
                    // In the handshake: the answer goes at once; the resends wait for the link to open.
                    return (s.channel, reply, false)
                }
                // In the queue (a file body may have the link now), ahead of the resends.
                reply.writeBuffer(&s.outbound.bytes)
                s.outbound.bytes = reply
                return (nil, nil, s.outbound.needsFlush())
            }
        }
        // A session taken from the table, or from the client's previous link, is
        // attached under the table's lock (see `DeliverySessions.passOn(_:)`).
        let (channel, direct, flush) = current.map(attach)
            ?? sessions.claim(sessionID, for: self, now: eventLoop.now, attach: attach)
        Self.failDelivery(replaced, with: .connectionLost)
        if let channel, let direct { channel.writeAndFlush(direct, promise: nil) }
        if flush { scheduleFlush() }
        logger.debug("acknowledged delivery: session attached", metadata: linkMetadata(["session": "\(sessionID)"]))
    }
}
