import NIOCore

/// A connection's timed starts: the table and the event loop's scheduled
/// handler calls (kept in the connection's state).
struct TimedStarts {
    var table = TimedStartTable()
    var tasks: [String: Scheduled<Void>] = [:]
}

extension Connection {
    // MARK: - Clock

    /// This side's clock, as Unix seconds: the system's wall clock plus
    /// ``ConnectionConfiguration/clockOffset``. It answers the station's
    /// `x-clever-time` exchange, and timed starts run by it; a simulated drone
    /// answers its `time` request with it too.
    public var clockTime: Double {
        WallClock.now + configuration.clockOffset.inSeconds
    }

    /// Answers an `x-clever-time` request: `[t2, t3]`, this side's clock as
    /// the request was taken up and as the answer leaves. Runs on the event loop.
    func answerClock(id: JSONValue) {
        let received = clockTime
        reply(to: ExtensionHeader.time, id: id, value: [.double(received), .double(clockTime)])
    }

    // MARK: - Timed start

    /// Answers an `x-clever-start` request: schedules the action's handler at
    /// the instant it names (this side's clock), once per start id, and
    /// acknowledges with `true`; an error reply when the request does not
    /// parse or no handler takes the action. Runs on the event loop.
    func answerTimedStart(id: JSONValue, kwargs: JSONObject) {
        guard let start = TimedStartRequest(kwargs) else {
            replyError(to: ExtensionHeader.start, id: id, RemoteError(code: RemoteError.Code.handlerFailed, message: "malformed timed start"))
            return
        }
        let registry = self.registry
        guard let handler = registry.action(start.action) else {
            replyError(to: ExtensionHeader.start, id: id, RemoteError(code: RemoteError.Code.unknownRequest, message: "no handler for action \"\(start.action)\""))
            return
        }
        let now = clockTime
        let observer = registry.timedStartObserver
        let accepted = state.withLockedValue { s -> TimedStartTable.Decision? in
            guard !s.lifecycle.isClosed else { return nil }
            let decision = s.timedStarts.table.accept(id: start.id, at: start.at, now: now)
            guard case .schedule(let delay) = decision else { return decision }
            // The handler and the observer were looked up on arrival: at the instant, the drones of an
            // event loop run one after the other, and each should cost the next as little as it can.
            s.timedStarts.tasks[start.id] = eventLoop.scheduleTask(in: delay.timeAmount) {
                self.runTimedStart(start, handler: handler, observer: observer)
            }
            return decision
        }
        guard let accepted else { return }
        if accepted == .full {
            let limit = TimedStartTable().maximumScheduled
            replyError(to: ExtensionHeader.start, id: id, RemoteError(code: RemoteError.Code.handlerFailed, message: "\(limit) timed starts wait already"))
            return
        }
        logger.debug("timed start scheduled", metadata: linkMetadata(["action": "\(start.action)", "at": "\(start.at)"]))
        reply(to: ExtensionHeader.start, id: id, value: true)
    }

    /// Runs a timed start's handler (the one registered when the start
    /// arrived), now that its instant came. Runs on the event loop.
    private func runTimedStart(_ start: TimedStartRequest, handler: HandlerRegistry.Action, observer: HandlerRegistry.TimedStartObserver?) {
        let ranAt = clockTime
        let due = state.withLockedValue { s -> Bool in
            s.timedStarts.tasks[start.id] = nil
            return s.timedStarts.table.run(id: start.id) != nil
        }
        guard due else { return }
        observer?(self, TimedStart(id: start.id, action: start.action, scheduledAt: start.at, ranAt: ranAt))
        switch handler {
        case .sync(let handler):
            do {
                try handler(self, [], start.kwargs)
            } catch {
                logger.warning("handler for action \"\(start.action)\" failed: \(error)", metadata: linkMetadata)
            }
        case .async(let handler):
            runHandlerTask {
                do {
                    try await handler(self, [], start.kwargs)
                } catch {
                    self.logger.warning("handler for action \"\(start.action)\" failed: \(error)", metadata: self.linkMetadata)
                }
            }
        case .decoding(let handler):
            do {
                try handler.run(self, start.action, .values(start.kwargs))
            } catch {
                logger.warning("handler for action \"\(start.action)\" failed: \(error)", metadata: linkMetadata)
            }
        }
    }

    /// Cancels every timed start not run yet (the connection closes for good). Call under the state lock.
    /// - Returns: their scheduled calls, to cancel outside the lock.
    func cancelTimedStarts(_ s: inout State) -> [Scheduled<Void>] {
        _ = s.timedStarts.table.cancelAll()
        defer { s.timedStarts.tasks = [:] }
        return Array(s.timedStarts.tasks.values)
    }
}

extension Connection {
    /// Answers `x-clever-time` and `x-clever-start` (from a peer that showed the
    /// extensions). Runs on the event loop.
    /// - Returns: whether the request was one of them.
    func answerClockExtension(_ requestedValue: String, id: JSONValue, kwargs: JSONObject) -> Bool {
        switch requestedValue {
        case ExtensionHeader.time: answerClock(id: id)
        case ExtensionHeader.start: answerTimedStart(id: id, kwargs: kwargs)
        default: return false
        }
        return true
    }
}

extension Connection {
    /// Asks the peer for a clock reading, timed on the event loop: `sent` just
    /// before the request's frame is flushed, `received` as its answer is
    /// matched, so that no hop between threads lands in the round trip.
    /// - Parameters:
    ///   - requestedValue: `x-clever-time` or `time`.
    ///   - timeout: how long to wait for the answer.
    /// - Returns: the station's clock at both ends, and the answer.
    /// - Throws: ``MessagingError`` as ``request(_:args:kwargs:timeout:)`` does.
    func clockReading(_ requestedValue: String, timeout: Duration) async throws(MessagingError) -> (sent: Double, value: JSONValue, received: Double) {
        let reading = eventLoop.makePromise(of: (sent: Double, value: JSONValue, received: Double).self)
        eventLoop.execute {
            let reply = self.eventLoop.makePromise(of: JSONValue.self)
            let request = PendingRequests.Entry.Request(
                requestedValue: requestedValue, args: [], kwargs: [:], timeout: timeout.timeAmount, fileDestination: nil, progress: nil
            )
            do throws(MessagingError) {
                let (_, flush) = try self.startRequest(request, completion: .promise(reply), awaited: true)
                let sent = WallClock.now
                if flush { self.flushOutbound() }
                reply.futureResult.whenComplete { result in
                    let received = WallClock.now
                    switch result {
                    case .success(let value): reading.succeed((sent, value, received))
                    case .failure(let error): reading.fail(error)
                    }
                }
            } catch {
                reply.fail(error)
                reading.fail(error)
            }
        }
        do {
            return try await reading.futureResult.get()
        } catch let error as MessagingError {
            throw error
        } catch {
            throw .connectionLost
        }
    }
}
