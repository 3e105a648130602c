import NIOCore

extension NATSConnectionCore {
    // MARK: Publishing

    /// Writes, buffers (while reconnecting) or refuses a publish; `command` is its wire form.
    func publish(_ command: ByteBuffer, payloadBytes: Int) throws(NATSError) {
        eventLoop.assertInEventLoop()
        let writable = channel?.isWritable ?? true
        switch machine.publish(payloadBytes: payloadBytes, commandBytes: command.readableBytes, writable: writable) {
        case .write:
            channel?.writeAndFlush(command, promise: nil)
        case .buffer:
            var command = command
            reconnectBuffer.writeBuffer(&command)
        case .reject(let error):
            throw error
        }
    }

    // MARK: Subscriptions

    func subscribe(subject: String, queueGroup: String?) throws(NATSError) -> NATSSubscription {
        eventLoop.assertInEventLoop()
        guard !machine.isClosed else { throw .closed }
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: NATSMessage.self, bufferingPolicy: .bufferingOldest(max(1, configuration.subscriptionBufferLimit)))
        let sid = subscriptions.add(subject: subject, queueGroup: queueGroup, sink: .stream(continuation))
        continuation.onTermination = { [self] termination in
            guard case .cancelled = termination else { return }
            eventLoop.execute { self.unsubscribe(sid: sid, after: nil) }
        }
        if machine.isConnected, let channel {
            var buffer = channel.allocator.buffer(capacity: 64)
            NATSCommand.writeSubscribe(subject: subject, queueGroup: queueGroup, sid: sid, into: &buffer)
            channel.writeAndFlush(buffer, promise: nil)
        }
        return NATSSubscription(sid: sid, subject: subject, queueGroup: queueGroup, stream: stream, core: self)
    }

    func unsubscribe(sid: UInt64, after maximum: Int?) {
        eventLoop.assertInEventLoop()
        guard subscriptions.entry(sid) != nil else { return }
        if let removed = subscriptions.unsubscribe(sid: sid, after: maximum) {
            if case .stream(let continuation) = removed.sink { continuation.finish() }
            writeUnsubscribe(sid: sid, after: nil)
        } else {
            writeUnsubscribe(sid: sid, after: maximum)
        }
    }

    private func writeUnsubscribe(sid: UInt64, after maximum: Int?) {
        guard machine.isConnected, let channel else { return }
        var buffer = channel.allocator.buffer(capacity: 32)
        NATSCommand.writeUnsubscribe(sid: sid, afterMessages: maximum, into: &buffer)
        channel.writeAndFlush(buffer, promise: nil)
    }

    func deliver(_ message: NATSMessage, sid: UInt64) {
        switch subscriptions.deliver(sid: sid) {
        case .unknown:
            return
        case .deliver(.inbox, _):
            answer(message)
        case .deliver(.stream(let continuation), let last):
            switch continuation.yield(message) {
            case .enqueued:
                if last { continuation.finish() }
            case .dropped:
                let subject = subscriptions.entry(sid)?.subject ?? message.subject
                logger.debug("NATS slow consumer", metadata: ["subject": "\(subject)"])
                if !last { _ = subscriptions.unsubscribe(sid: sid, after: nil) }
                writeUnsubscribe(sid: sid, after: nil)
                continuation.finish(
                    throwing: NATSError.slowConsumer(subject: subject, limit: configuration.subscriptionBufferLimit))
                events.yield(.slowConsumer(subject: subject))
            case .terminated:
                if !last { _ = subscriptions.unsubscribe(sid: sid, after: nil) }
                writeUnsubscribe(sid: sid, after: nil)
            @unknown default:
                break
            }
        }
    }

    // MARK: Requests

    /// Publishes a request with a reply subject under the client's inbox and waits for the first reply.
    func request(
        subject: String, headerBlock: String?, payload: ByteBuffer, timeout: Duration
    ) -> EventLoopFuture<NATSMessage> {
        eventLoop.assertInEventLoop()
        guard !machine.isClosed else { return eventLoop.makeFailedFuture(NATSError.closed) }
        let prefix = ensureInbox()
        let token = String(nextRequest)
        nextRequest += 1
        let replyTo = prefix + token
        var command = ByteBuffer()
        NATSCommand.writePublish(
            subject: subject, replyTo: replyTo, headerBlock: headerBlock, payload: payload, into: &command)
        let promise = eventLoop.makePromise(of: NATSMessage.self)
        let key = Substring(token)
        let task = eventLoop.scheduleTask(in: TimeAmount(timeout)) { [self] in
            let request = requests.removeValue(forKey: key)
            request?.promise.fail(NATSError.timedOut(subject: subject, timeout: timeout))
        }
        requests[key] = PendingRequest(subject: subject, promise: promise, timeout: task)
        do {
            try publish(command, payloadBytes: NATSCommand.payloadSize(payload: payload, headerBlock: headerBlock))
        } catch {
            task.cancel()
            requests[key] = nil
            promise.fail(error)
        }
        return promise.futureResult
    }

    private func ensureInbox() -> String {
        if let inboxPrefix { return inboxPrefix }
        let prefix = "_INBOX.\(NUID.next())."
        inboxPrefix = prefix
        let sid = subscriptions.add(subject: prefix + "*", queueGroup: nil, sink: .inbox)
        if machine.isConnected, let channel {
            var buffer = channel.allocator.buffer(capacity: 64)
            NATSCommand.writeSubscribe(subject: prefix + "*", queueGroup: nil, sid: sid, into: &buffer)
            channel.writeAndFlush(buffer, promise: nil)
        }
        return prefix
    }

    private func answer(_ message: NATSMessage) {
        guard let prefix = inboxPrefix, message.subject.hasPrefix(prefix) else { return }
        let token = message.subject.dropFirst(prefix.count)
        guard let request = requests.removeValue(forKey: token) else { return }
        request.timeout.cancel()
        if message.headers?.status == 503, message.payload.readableBytes == 0 {
            request.promise.fail(NATSError.noResponders(subject: request.subject))
        } else {
            request.promise.succeed(message)
        }
    }

    // MARK: Flush

    /// Sends a PING and succeeds when its PONG arrives (everything written before it reached the server).
    func flush(timeout: Duration) -> EventLoopFuture<Void> {
        eventLoop.assertInEventLoop()
        guard !machine.isClosed else { return eventLoop.makeFailedFuture(NATSError.closed) }
        guard machine.isConnected, let channel else { return eventLoop.makeFailedFuture(NATSError.notConnected) }
        let id = nextWaiterID
        nextWaiterID += 1
        let promise = eventLoop.makePromise(of: Void.self)
        let task = eventLoop.scheduleTask(in: TimeAmount(timeout)) { [self] in
            let waiter = pongWaiters.removeValue(forKey: id)
            waiter?.promise.fail(NATSError.timedOut(subject: "PING", timeout: timeout))
        }
        pongWaiters[id] = PongWaiter(promise: promise, timeout: task)
        pongQueue.append(id)
        machine.pingSent()
        var buffer = channel.allocator.buffer(capacity: 6)
        NATSCommand.writePing(into: &buffer)
        channel.writeAndFlush(buffer, promise: nil)
        return promise.futureResult
    }
}
