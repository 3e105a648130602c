import Logging
import NIOCore

extension Connection {
    // MARK: - Links

    /// A link came up (``ConnectionHandler``): pending requests are queued
    /// again for it, and its handshake starts. Runs on the event loop.
    /// - Returns: whether the link is open already (no stage waits).
    func attach(_ channel: any Channel) -> Bool {
        let now = self.eventLoop.now
        onLoop.value.readBatchActive = false
        let linkNumber = state.withLockedValue { $0.lifecycle.linkCount } + 1
        let link = HandshakeLink(remoteAddress: channel.remoteAddress, connectionNumber: number, linkNumber: linkNumber)
        var stages = configuration.handshake.map { $0.makeStage(for: link) }
        if let delivery = deliveryStage() { stages.append(delivery) }
        let action = state.withLockedValue { s -> LinkLifecycle.Action in
            let action = s.lifecycle.linkUp(stages: stages.count)
            guard action != .refuseLink else { return action }
            s.channel = channel
            s.linkOpened = false
            s.readGate = ReadGate(channel: channel)
            s.handlers.linkChanged()
            s.remoteAddress = channel.remoteAddress
            s.linkTarget?.clear()
            s.linkTarget = LinkTimerTarget(self)
            s.outbound.hold(keep: true)
            for (id, entry) in s.pending.linkUp(resend: configuration.resendRequests) {
                // Cannot fail: this frame was encoded once already when it was first made.
                try? entry.request.write(id: id, writer: &s.writer, into: &s.outbound.bytes)
            }
            if action == .startHandshake {
                let context = HandshakeContext(
                    link: link,
                    logger: logger,
                    peerSpeaksExtensions: s.peerSpeaksExtensions,
                    nextRequestNumber: s.pending.nextNumber
                )
                s.handshake = OutOfLine(NIOLoopBound(
                    HandshakeRun(stages: stages, context: context, timeout: configuration.handshakeTimeout, now: now),
                    eventLoop: eventLoop
                ))
            }
            return action
        }
        switch action {
        case .refuseLink:
            logger.debug("link refused: the connection is closed", metadata: ["peer": "\(Self.describe(channel.remoteAddress))"])
            channel.close(promise: nil)
            return false
        case .startHandshake:
            logger.trace("link up, handshaking", metadata: linkMetadata)
            return stepHandshake(now: now) { $0.start(now: now) }
        default:
            openLink(now: now)
            return true
        }
    }

    /// The link's handshake passed (or it had none): what is queued goes out,
    /// the frames held during the handshake are dispatched, and the link is watched.
    /// Runs on the event loop.
    func openLink(now: NIODeadline) {
        let (flush, waiters, held) = state.withLockedValue { s -> (Bool, [EventLoopPromise<Void>], [Frame]) in
            let waiters = s.linkWaiters
            s.linkWaiters = []
            let held = s.heldInbound
            s.heldInbound = []
            s.linkOpened = true
            return (s.outbound.open(), waiters, held)
        }
        // Counted before anyone waiting for the link hears of it (a station registers its drone then).
        metrics?.linkOpened()
        for waiter in waiters { waiter.succeed() }
        startLiveness(now: now)
        logger.debug("link open", metadata: linkMetadata)
        // Ahead of the answers to the held frames (a station's `id` waits for them).
        offerDeliveryAfterOpen()
        for frame in held { receive(frame) }
        if flush { scheduleFlush() }
    }

    /// A link went down: fail what is not kept for the next link.
    func detach(_ channel: any Channel) {
        // A link that ends inside a read batch never reports the batch's end.
        onLoop.value.readBatchActive = false
        var session: DeliverySession?
        var wasOpen = false
        let (droppedQueue, failedRequests, closePromises, closed, reason) = state.withLockedValue { s in
            guard let current = s.channel, current === channel else {
                return ([(WriteWaiter, Result<Void, MessagingError>)](), [PendingRequests.Entry](), [EventLoopPromise<Void>](), s.lifecycle.isClosed, nil as MessagingError?)
            }
            wasOpen = s.linkOpened
            deliveryLinkDown(&s)
            s.channel = nil
            s.linkOpened = false
            s.readGate = nil
            s.receipts.linkDown()
            s.handlers.linkChanged()
            _ = s.lifecycle.linkDown()
            let closed = s.lifecycle.isClosed
            let keep = configuration.resumeQueue && !closed
            // What was queued and not kept will never be written: its receipts fail.
            let dropped = s.outbound.hold(keep: keep) ? s.receipts.dropQueued(s.dropReason?.error ?? .connectionLost) : []
            let failed = closed ? s.pending.removeAll() : s.pending.linkDown(keepForResend: configuration.resendRequests)
            s.lastDropReason = s.dropReason
            s.dropReason = nil
            let promises = s.closePromises
            s.closePromises = []
            stopLiveness(&s)
            s.handshake = nil
            s.heldInbound = []
            s.handshakeTimer.disarm()
            s.linkTarget?.clear()
            s.linkTarget = nil
            if closed, case .client = deliveryRole {
                // A client's connection closed for good: its session ends with it.
                session = s.delivery
                s.delivery = nil
            }
            return (dropped, failed, promises, closed, s.lastDropReason?.error)
        }
        if case .server(let sessions) = deliveryRole {
            // Only with a session still here: a claim that took it (under the table's lock,
            // closing this link from there) leaves nothing to store, nor a lock to take again.
            if state.withLockedValue({ $0.delivery != nil }) { sessions.store(takingFrom: self, now: eventLoop.now) }
        } else {
            Self.failDelivery(session, with: .closed)
        }
        if wasOpen { metrics?.linkClosed() }
        logger.debug("link down", metadata: linkMetadata)
        if closed, ownsHandlerTasks { handlerTasks.finish() }
        Self.resume(droppedQueue)
        for entry in failedRequests { entry.finish(.failure(closed ? .closed : reason ?? .connectionLost)) }
        for promise in closePromises { promise.succeed() }
    }

    /// A client starts trying to make a link for this connection (for its
    /// lifecycle: ``LinkLifecycle/Phase/connecting``). Used by ``MessagingClient``.
    package func connectAttemptStarted() {
        state.withLockedValue { $0.lifecycle.connecting() }
    }

    /// The attempt failed; the connection has no link.
    package func connectAttemptFailed() {
        state.withLockedValue { $0.lifecycle.connectFailed() }
    }

    /// Waits until a link is open (up, and its handshake passed).
    /// - Parameter timeout: how long to wait.
    /// - Throws: ``MessagingError/closed`` if the connection is closed,
    ///   ``MessagingError/handshakeFailed(_:)`` when a link came up and failed
    ///   its handshake, ``MessagingError/notConnected`` when no link opened in time.
    public func waitUntilConnected(timeout: Duration = .seconds(10)) async throws(MessagingError) {
        let promise = eventLoop.makePromise(of: Void.self)
        let ready = try withState { s throws(MessagingError) -> Bool in
            if s.lifecycle.isClosed { throw .closed }
            if s.lifecycle.isOpen { return true }
            s.linkWaiters.append(promise)
            return false
        }
        if ready {
            promise.succeed()
            return
        }
        let timer = eventLoop.scheduleTask(in: timeout.timeAmount) { promise.fail(MessagingError.notConnected) }
        do {
            try await promise.futureResult.get()
            timer.cancel()
        } catch let error as MessagingError {
            throw error
        } catch {
            throw .notConnected
        }
    }

    /// Calls `body` on the event loop once the link is open (`true`: up, and
    /// its handshake passed), or its handshake failed or the connection closed
    /// first (`false`). No deadline of its own: the link's handshake timeout,
    /// its failure or the connection's close ends the wait.
    package func whenLinkOpens(_ body: @escaping @Sendable (Bool) -> Void) {
        let promise = eventLoop.makePromise(of: Void.self)
        let ready = state.withLockedValue { s -> Bool? in
            if s.lifecycle.isClosed { return false }
            if s.lifecycle.isOpen { return true }
            s.linkWaiters.append(promise)
            return nil
        }
        if ready != nil { promise.succeed() }
        promise.futureResult.whenComplete { result in
            if let ready { body(ready) } else if case .success = result { body(true) } else { body(false) }
        }
    }

    /// Drops the current link at once, as a network failure would, without
    /// closing the connection: a client reconnects it, and pending requests are
    /// resent per ``ConnectionConfiguration/resendRequests``.
    public func dropLink() {
        let channel = state.withLockedValue { $0.channel }
        channel?.close(promise: nil)
    }

    /// Drops `channel`, the current link, for `reason` (``lastDropReason``
    /// once it is down; what it fails fails with `reason`). Runs on the event loop.
    func dropLink(_ channel: any Channel, for reason: DropReason) {
        let current = state.withLockedValue { s -> Bool in
            guard let link = s.channel, link === channel else { return false }
            if s.dropReason == nil { s.dropReason = reason }
            return true
        }
        if current { channel.close(promise: nil) }
    }

    /// Closes the connection for good: queued frames are written first, then
    /// the link closes; pending requests fail with ``MessagingError/closed``.
    public func close() async {
        try? await startClose()?.get()
    }

    /// Starts closing (``close()`` without waiting): queued frames are written,
    /// then the link closes; pending requests fail with `pendingError`. Used by
    /// the roles, which close connections from event-loop callbacks.
    /// - Parameter pendingError: what pending requests fail with (default ``MessagingError/closed``).
    /// - Returns: a future for the link's end when there is a link.
    @discardableResult
    package func startClose(pendingError: MessagingError = .closed) -> EventLoopFuture<Void>? {
        var unsentFrames: [(WriteWaiter, Result<Void, MessagingError>)] = []
        let (channel, pending, waiters, done) = state.withLockedValue { s in
            let action = s.lifecycle.close()
            s.requestTimer.disarm()
            stopLiveness(&s)
            for start in cancelTimedStarts(&s) { start.cancel() }
            let pending = s.pending.removeAll()
            let waiters = s.linkWaiters
            s.linkWaiters = []
            guard action != .failWaiting, let channel = s.channel else {
                // Nothing can carry what is queued any more: its senders learn it.
                if s.outbound.dropQueued() { unsentFrames = s.receipts.dropQueued(.closed) }
                return ((any Channel)?.none, pending, waiters, EventLoopFuture<Void>?.none)
            }
            let promise = eventLoop.makePromise(of: Void.self)
            s.closePromises.append(promise)
            return (channel, pending, waiters, promise.futureResult)
        }
        Self.resume(unsentFrames)
        for entry in pending { entry.finish(.failure(pendingError)) }
        for waiter in waiters { waiter.fail(MessagingError.closed) }
        guard let channel else {
            if ownsHandlerTasks { handlerTasks.finish() }
            return nil
        }
        eventLoop.execute {
            self.flushOutbound()
            channel.close(promise: nil)
        }
        return done
    }

    // MARK: - Log metadata

    /// The peer's address and, once known, its drone id: on every log line about the link.
    package var linkMetadata: Logger.Metadata {
        let (address, id) = state.withLockedValue { ($0.remoteAddress, $0.peerID) }
        var metadata: Logger.Metadata = ["peer": "\(Self.describe(address))"]
        if let id { metadata["drone"] = "\(id)" }
        return metadata
    }

    /// ``linkMetadata`` with `extra` added.
    package func linkMetadata(_ extra: Logger.Metadata) -> Logger.Metadata {
        linkMetadata.merging(extra) { _, new in new }
    }

    /// The drone id of the peer, once an ``IdentifyStage`` of its handshake learnt it.
    public var peerID: String? { state.withLockedValue { $0.peerID } }

    /// `host:port` of an address, or `?`.
    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "?" }
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
