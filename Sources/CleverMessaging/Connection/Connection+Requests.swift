import Logging
import NIOConcurrencyHelpers
import NIOCore
import OrderedCollections
import Synchronization

extension Connection {
    // MARK: - Requests

    /// Asks the peer for a value and waits for the reply.
    /// - Parameters:
    ///   - requestedValue: the name of the value; the peer's request handler for it answers.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - timeout: how long to wait (default ``ConnectionConfiguration/defaultRequestTimeout``).
    /// - Returns: the reply's value.
    /// - Throws: ``MessagingError``: timed out, cancelled, closed, lost, or the
    ///   peer's error reply (``MessagingError/remote(_:)``).
    public func request(
        _ requestedValue: String,
        args: [JSONValue] = [],
        kwargs: JSONObject = [:],
        timeout: Duration? = nil
    ) async throws(MessagingError) -> JSONValue {
        let request = PendingRequests.Entry.Request(
            requestedValue: requestedValue,
            args: args,
            kwargs: kwargs,
            timeout: (timeout ?? configuration.defaultRequestTimeout).timeAmount
        )
        if #available(macOS 15.0, *) {
            return try await suspendForReply(request) { .continuation($0) }
        }
        let promise = eventLoop.makePromise(of: JSONValue.self)
        let id = try startAwaitedRequest(request, completion: .promise(promise))
        return try await waitForReply(promise, id: id)
    }

    /// Registers `request` (awaited) and suspends until its reply, on a
    /// continuation its entry resumes (`completion` makes the entry's
    /// completion of it); cancelling the calling task fails the request with
    /// ``MessagingError/cancelled``.
    /// Inlined, so that each caller gets it specialized for its reply's type
    /// (generic, it looked its metadata up on every request).
    @available(macOS 15.0, *)
    @inline(__always)
    func suspendForReply<Value: Sendable>(
        _ request: PendingRequests.Entry.Request,
        completion: (UnsafeContinuation<Value, any Error>) -> PendingRequests.Completion
    ) async throws(MessagingError) -> Value {
        // The request's number, for the cancellation handler: 0 until the
        // request is registered, -1 once cancelled before that. Lives in this
        // call's frame: no promise, no callback on a future, no box.
        let registered = Atomic<Int>(0)
        do {
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Value, any Error>) in
                    let number: Int
                    do throws(MessagingError) {
                        number = try startAwaitedRequestNumber(request, completion: completion(continuation))
                    } catch {
                        continuation.resume(throwing: error)
                        return
                    }
                    if !registered.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing).exchanged {
                        // Cancelled while it was being made.
                        failRequest(number: number, with: .cancelled)
                    }
                }
            } onCancel: {
                let (exchanged, number) = registered.compareExchange(expected: 0, desired: -1, ordering: .acquiringAndReleasing)
                if !exchanged { self.failRequest(number: number, with: .cancelled) }
            }
        } catch let error as MessagingError {
            throw error
        } catch {
            throw .connectionLost
        }
    }

    /// Waits for the reply to request `id`, which `promise` is told; cancelling
    /// the calling task fails the request with ``MessagingError/cancelled``.
    /// Inlined, so that the plain request's code stays what it was.
    @inline(__always)
    func waitForReply<Value: Sendable>(_ promise: EventLoopPromise<Value>, id: String) async throws(MessagingError) -> Value {
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                self.failRequest(id: id, with: .cancelled)
            }
        } catch let error as MessagingError {
            throw error
        } catch {
            throw .connectionLost
        }
    }

    /// Asks the peer for a value and calls `callback` with the reply (the reference's `get_response`).
    /// - Parameters:
    ///   - requestedValue: the name of the value.
    ///   - requestArgs: positional arguments of the request.
    ///   - requestKwargs: keyword arguments of the request.
    ///   - callbackArgs: passed back to `callback`.
    ///   - callbackKwargs: passed back to `callback`.
    ///   - timeout: how long to wait (default ``ConnectionConfiguration/defaultRequestTimeout``).
    ///   - onError: called instead of `callback` when no reply comes (the reference has no such path).
    ///   - callback: called with (connection, value, callbackArgs, callbackKwargs).
    /// - Returns: the request id.
    /// - Throws: ``MessagingError`` when the request cannot be sent.
    @discardableResult
    package func getResponse(
        _ requestedValue: String,
        requestArgs: [JSONValue] = [],
        requestKwargs: JSONObject = [:],
        callbackArgs: [JSONValue] = [],
        callbackKwargs: JSONObject = [:],
        timeout: Duration? = nil,
        onError: (@Sendable (MessagingError) -> Void)? = nil,
        callback: @escaping @Sendable (Connection, JSONValue, [JSONValue], JSONObject) -> Void
    ) throws(MessagingError) -> String {
        // The callback and its arguments live in the request object: one allocation per request, no closure.
        let request = PendingRequests.Entry.Request(
            requestedValue: requestedValue,
            args: requestArgs,
            kwargs: requestKwargs,
            timeout: (timeout ?? configuration.defaultRequestTimeout).timeAmount,
            callback: ResponseCallback(
                connection: self, callback: callback, callbackArgs: callbackArgs, callbackKwargs: callbackKwargs, onError: onError
            )
        )
        return try startFormattedRequest(request, completion: .requestCallback, expires: true, awaited: false)
    }

    /// Registers a pending request, queues its frame when linked, and arms its timer.
    /// `expires: false` gives the request no deadline: its owner fails it
    /// itself (pings, which the link's ``Liveness`` watches).
    /// `awaited`: the caller waits for the reply (its flush is not held back for a burst).
    /// Used by roles that ask a peer on their own (``GroundStation``'s identification).
    /// - Returns: the request id.
    package func startRequest(
        _ requestedValue: String,
        args: [JSONValue],
        kwargs: JSONObject,
        completion: PendingRequests.Completion,
        timeout: Duration?,
        expires: Bool = true,
        fileDestination: String? = nil,
        progress: FileTransferProgressHandler? = nil,
        awaited: Bool = false
    ) throws(MessagingError) -> String {
        let request = PendingRequests.Entry.Request(
            requestedValue: requestedValue,
            args: args,
            kwargs: kwargs,
            timeout: (timeout ?? configuration.defaultRequestTimeout).timeAmount,
            fileDestination: fileDestination,
            progress: progress
        )
        return try startFormattedRequest(request, completion: completion, expires: expires, awaited: awaited)
    }

    /// Registers a pending request for `request`, queues its frame when
    /// linked, arms its timer and schedules the flush.
    /// - Returns: the request id, formatted once (for the frame, when it is written now, and the caller).
    private func startFormattedRequest(
        _ request: PendingRequests.Entry.Request,
        completion: PendingRequests.Completion,
        expires: Bool,
        awaited: Bool
    ) throws(MessagingError) -> String {
        var id: String? = nil
        let (number, flush) = try startRequest(
            request, completion: completion, expires: expires, awaited: awaited, now: .now()
        ) { writer, number, out throws(FrameEncodingError) in
            let formatted = RequestID.format(number)
            id = formatted
            try request.write(id: formatted, writer: &writer, into: &out)
        }
        if flush { scheduleFlush() }
        return id ?? RequestID.format(number)
    }

    /// Registers a pending request for `request` (its `timeout` already
    /// resolved; the object may be shared by many requests), queues its frame
    /// when linked, and arms its timer; the flush is left to the caller.
    /// - Returns: the request's number (its id is ``formatRequestID(_:)`` of it),
    ///   and whether the caller must run ``flushOutbound()`` on ``eventLoop``
    ///   (or ``scheduleFlush()``) for the frame to go out.
    func startRequest(
        _ request: PendingRequests.Entry.Request,
        completion: PendingRequests.Completion,
        expires: Bool = true,
        awaited: Bool = false
    ) throws(MessagingError) -> (number: Int, needsFlush: Bool) {
        try startRequest(request, completion: completion, expires: expires, awaited: awaited, now: .now()) { writer, number, out throws(FrameEncodingError) in
            try request.write(id: Self.formatRequestID(number), writer: &writer, into: &out)
        }
    }

    /// Registers a pending request for `request`, which its caller awaits,
    /// queues its frame when linked, arms its timer and schedules the flush.
    /// - Returns: the request id.
    func startAwaitedRequest(_ request: PendingRequests.Entry.Request, completion: PendingRequests.Completion) throws(MessagingError) -> String {
        try startFormattedRequest(request, completion: completion, expires: true, awaited: true)
    }

    /// As ``startAwaitedRequest(_:completion:)``, for a caller that keeps the
    /// request's number rather than its id (whose text is then made only for the frame).
    /// - Returns: the request's number.
    func startAwaitedRequestNumber(_ request: PendingRequests.Entry.Request, completion: PendingRequests.Completion) throws(MessagingError) -> Int {
        let (number, flush) = try startRequest(request, completion: completion, awaited: true)
        if flush { scheduleFlush() }
        return number
    }

    /// Registers a pending request for `request`, one of many asked of many
    /// links at once (``RequestFanOut``): its frame is copied from `templates`
    /// (encoded once per kind of link and id length, see
    /// ``RequestFrameTemplates``), and it gets no deadline of its own when not
    /// `expires` (the fan-out sweeps its requests' deadlines itself).
    /// - Parameter now: when the request is made (read once for many).
    /// - Returns: as ``startRequest(_:completion:expires:awaited:)``.
    func startFanOutRequest(
        _ request: PendingRequests.Entry.Request,
        completion: PendingRequests.Completion,
        expires: Bool,
        now: NIODeadline,
        templates: inout RequestFrameTemplates
    ) throws(MessagingError) -> (number: Int, needsFlush: Bool) {
        let announces = configuration.announceExtensions
        return try startRequest(request, completion: completion, expires: expires, awaited: false, now: now) { writer, number, out throws(FrameEncodingError) in
            try templates.write(request, number: number, writer: &writer, announces: announces, into: &out)
        }
    }

    /// The common part of starting a request: `encode` appends its frame
    /// (given the link's writer and the request's number) when the link is up.
    private func startRequest(
        _ request: PendingRequests.Entry.Request,
        completion: PendingRequests.Completion,
        expires: Bool,
        awaited: Bool,
        now: NIODeadline,
        encode: (inout FrameWriter, Int, inout ByteBuffer) throws(FrameEncodingError) -> Void
    ) throws(MessagingError) -> (number: Int, needsFlush: Bool) {
        let (number, arm, flush) = try withState { s throws(MessagingError) -> (Int, Bool, Bool) in
            if s.lifecycle.isClosed { throw .closed }
            let linked = s.lifecycle.isLinked
            if !linked && !configuration.resendRequests && !configuration.resumeQueue { throw .notConnected }
            let number = s.pending.takeNumber()
            var flush = false
            if linked {
                try s.outbound.checkRoom()
                do throws(FrameEncodingError) {
                    try encode(&s.writer, number, &s.outbound.bytes)
                } catch {
                    throw .encoding(error)
                }
                flush = s.outbound.needsFlush()
                if awaited { s.outbound.flushAwaited = true }
                if metrics != nil {
                    s.framesQueued &+= 1
                    s.requestsQueued &+= 1
                }
            }
            let entry = PendingRequests.Entry(request: request, completion: completion, written: linked)
            let deadline = s.pending.add(number: number, entry: entry, expires: expires, now: now)
            // Decided here rather than in `armTimeoutsSoon`, so that a request takes the lock once.
            let arm = deadline.map { claimTimerArming(&s, covering: $0) } ?? false
            return (number, arm, flush)
        }
        if arm { armTimeoutsOnLoop() }
        return (number, flush)
    }

    /// Makes sure the timeout timer covers the earliest deadline (from any thread).
    /// - Parameter deadline: the deadline just added, when known: nothing is
    ///   scheduled if the armed timer fires before it anyway (the common case
    ///   of requests with one timeout, so a request costs no timer work).
    func armTimeoutsSoon(covering deadline: NIODeadline? = nil) {
        if state.withLockedValue({ claimTimerArming(&$0, covering: deadline) }) { armTimeoutsOnLoop() }
    }

    /// Whether the caller must arm the timer (``armTimeoutsOnLoop()``) for a
    /// request whose deadline is `deadline` (`nil`: unknown): not when an arming
    /// is on its way already, nor when the armed timer fires before `deadline`.
    func claimTimerArming(_ s: inout State, covering deadline: NIODeadline?) -> Bool {
        guard !s.requestTimerArming else { return false }
        if let deadline, let armed = s.requestTimer.armed, armed <= deadline { return false }
        s.requestTimerArming = true
        return true
    }

    /// Arms the timer on the event loop (at once when on it), after ``claimTimerArming(_:covering:)``.
    func armTimeoutsOnLoop() {
        if eventLoop.inEventLoop {
            armTimeouts()
        } else {
            eventLoop.execute { self.armTimeouts() }
        }
    }

    /// Arms the timer of this connection for the earliest live deadline
    /// (see ``RequestTimeouts/arm()``). Runs on the event loop.
    func armTimeouts() {
        timeouts.arm()
    }

    /// Fails the request `id`, if it still waits.
    package func failRequest(id: String, with error: MessagingError) {
        guard let entry = state.withLockedValue({ $0.pending.remove(id: id) }) else { return }
        if case .timedOut = error {
            logger.debug("request \(id) for \(entry.requestedValue) timed out", metadata: linkMetadata)
            metrics?.timedOut(1)
        }
        entry.finish(.failure(error))
    }

    /// Fails the request numbered `number` (see ``startRequest(_:completion:expires:awaited:)``), if it still waits.
    package func failRequest(number: Int, with error: MessagingError) {
        guard let entry = state.withLockedValue({ $0.pending.remove(number: number) }) else { return }
        entry.finish(.failure(error))
    }

    /// Fails the request numbered `number`, if it still waits, as its own
    /// deadline would (``MessagingError/timedOut(requestedValue:requestID:timeout:)``
    /// with its timeout): for requests whose deadline their owner watches
    /// (a fan-out's sweep, ``RequestFanOut``).
    func expireRequest(number: Int) {
        guard let entry = state.withLockedValue({ $0.pending.remove(number: number) }) else { return }
        let id = Self.formatRequestID(number)
        logger.debug("request \(id) for \(entry.requestedValue) timed out", metadata: linkMetadata)
        metrics?.timedOut(1)
        entry.finish(.failure(.timedOut(requestedValue: entry.requestedValue, requestID: id, timeout: Duration(entry.timeout ?? .zero))))
    }

    /// The id of request number `number` (see ``RequestID/format(_:)``).
    package static func formatRequestID(_ number: Int) -> String { RequestID.format(number) }

    /// The number behind a request id this library made (see ``RequestID/number(_:)``).
    package static func requestNumber(_ id: String) -> Int? { RequestID.number(id) }

    // MARK: - Replies

    /// Queues a value reply to a request.
    func reply(to requestedValue: String, id: JSONValue, value: JSONValue) {
        do {
            try enqueueReply { writer, out throws(FrameEncodingError) in
                try writer.writeResponse(requestedValue, id: id, value: value, into: &out)
            }
        } catch {
            // The link is gone (or the connection closed) while the handler ran: the peer asks again.
            logger.debug("cannot reply to \(requestedValue) request \(id): \(error)", metadata: linkMetadata)
        }
    }

    /// Queues an error reply (only for peers that announced they understand them).
    func replyError(to requestedValue: String, id: JSONValue, _ error: RemoteError) {
        do {
            var frame = Frame.response(requestedValue, id: id, value: .null)
            frame.content = .json(["value": .null, "error": error.jsonValue])
            try enqueueReply { writer, out throws(FrameEncodingError) in try writer.write(frame, into: &out) }
        } catch {
            logger.debug("cannot send error reply to \(requestedValue) request \(id): \(error)", metadata: linkMetadata)
        }
    }
}

/// A fan-out's group takes its results by slot, as ``PendingRequests`` delivers them.
extension RequestFanOut.Group: RequestResultSink {}
