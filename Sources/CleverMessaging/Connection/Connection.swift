import Logging
import NIOConcurrencyHelpers
import NIOCore

/// One peer, across reconnects (the seed's `ConnectionManager`).
///
/// A connection sends actions, requests and replies, matches replies to
/// requests, and dispatches what arrives to its ``registry``. It survives a
/// dropped link: a ``MessagingClient`` attaches the next link to the same
/// object, and pending requests are sent again on it (``ConnectionConfiguration/resendRequests``).
///
/// Sending is safe from any thread or task. Frames sent in a burst are
/// encoded into one buffer and written with one flush, so one-way throughput
/// does not pay a system call per frame.
public final class Connection: Sendable {
    /// The event loop all of this connection's links and timers run on.
    public let eventLoop: any EventLoop
    /// The behaviour settings.
    public let configuration: ConnectionConfiguration
    /// The logger, with this connection's metadata.
    public let logger: Logger
    /// A process-unique number for logs and tables.
    public let number: Int

    private let registryBox: NIOLockedValueBox<HandlerRegistry>
    private let state: NIOLockedValueBox<State>
    private static let counter = NIOLockedValueBox(0)

    struct State {
        var channel: (any Channel)?
        var remoteAddress: SocketAddress?
        var isClosed = false
        var nextRequestNumber = 1
        var pending = PendingRequests()
        var outbound = ByteBuffer()
        var outboundPromise: EventLoopPromise<Void>?
        var inFlightBytes = 0
        var flushScheduled = false
        var writer = FrameWriter()
        var peerSpeaksExtensions = false
        var linkCount = 0
        var closePromises: [EventLoopPromise<Void>] = []
        var linkWaiters: [EventLoopPromise<Void>] = []
    }

    /// Creates a connection that is not linked yet.
    /// - Parameters:
    ///   - eventLoop: the event loop its links will use.
    ///   - registry: the handlers for what arrives (may be shared).
    ///   - configuration: behaviour settings.
    ///   - logger: where to log.
    public init(
        eventLoop: any EventLoop,
        registry: HandlerRegistry,
        configuration: ConnectionConfiguration = .init(),
        logger: Logger = Logger(label: "clever.connection")
    ) {
        let number = Self.counter.withLockedValue { $0 += 1; return $0 }
        var logger = logger
        logger[metadataKey: "connection"] = "\(number)"
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.number = number
        self.registryBox = NIOLockedValueBox(registry)
        self.state = NIOLockedValueBox(State())
    }

    deinit {
        // Whatever still waits learns that it will not complete.
        let (unsent, pending, waiters) = state.withLockedValue { s in
            (s.outboundPromise, s.pending.removeAll(), s.linkWaiters + s.closePromises)
        }
        unsent?.fail(ConnectionError.closed)
        for entry in pending { entry.finish(.failure(.closed)) }
        for waiter in waiters { waiter.fail(ConnectionError.closed) }
    }

    // MARK: - Properties

    /// The handlers for what arrives on this connection; replace to give it its own.
    public var registry: HandlerRegistry {
        get { registryBox.withLockedValue { $0 } }
        set { registryBox.withLockedValue { $0 = newValue } }
    }

    /// Whether a link is up.
    public var isConnected: Bool { state.withLockedValue { $0.channel != nil } }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { state.withLockedValue { $0.isClosed } }

    /// The peer's address on the current (or last) link.
    public var remoteAddress: SocketAddress? { state.withLockedValue { $0.remoteAddress } }

    /// How many requests wait for a reply.
    public var pendingRequestCount: Int { state.withLockedValue { $0.pending.count } }

    /// How many links this connection has had (1 after the first connect).
    public var linkCount: Int { state.withLockedValue { $0.linkCount } }

    /// Whether the peer has shown it speaks this library's extensions.
    public var peerSpeaksExtensions: Bool { state.withLockedValue { $0.peerSpeaksExtensions } }

    /// Runs `body` on the locked state, keeping its typed error.
    private func withState<T>(_ body: (inout State) throws(ConnectionError) -> T) throws(ConnectionError) -> T {
        try state.withLockedValue { s in Result { () throws(ConnectionError) in try body(&s) } }.get()
    }

    // MARK: - Sending

    /// Queues a frame for the peer and returns at once.
    /// - Parameter frame: the frame.
    /// - Returns: a receipt that tells when the frame reached the socket.
    /// - Throws: ``ConnectionError`` when the frame cannot be queued
    ///   (closed, not connected without ``ConnectionConfiguration/resumeQueue``, queue full, encoding).
    @discardableResult
    public func enqueue(_ frame: Frame) throws(ConnectionError) -> SendReceipt {
        let (receipt, flush) = try withState { s throws(ConnectionError) in
            try self.checkCanQueue(&s)
            do throws(FrameEncodingError) {
                try s.writer.write(frame, into: &s.outbound)
            } catch {
                throw .encoding(error)
            }
            return self.takeReceipt(&s)
        }
        if flush { scheduleFlush() }
        return receipt
    }

    /// Queues bytes that already hold whole encoded frames (for a broadcast
    /// that encodes once and fans out).
    /// - Parameter bytes: one or more complete frames.
    /// - Returns: a receipt.
    /// - Throws: ``ConnectionError``.
    @discardableResult
    public func enqueueEncoded(_ bytes: ByteBuffer) throws(ConnectionError) -> SendReceipt {
        let (receipt, flush) = try withState { s throws(ConnectionError) in
            try self.checkCanQueue(&s)
            s.outbound.writeImmutableBuffer(bytes)
            return self.takeReceipt(&s)
        }
        if flush { scheduleFlush() }
        return receipt
    }

    /// Sends an action message and waits until it is written to the socket
    /// (the seed's `send_message`).
    /// - Parameters:
    ///   - action: the action name; the peer's handler for it is called.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    /// - Throws: ``ConnectionError`` when it was not written.
    public func sendMessage(_ action: String, args: [JSONValue] = [], kwargs: JSONObject = [:]) async throws(ConnectionError) {
        try await enqueue(.action(action, args: args, kwargs: kwargs)).written()
    }

    /// Queues an action message and returns at once; for bursts.
    /// - Parameters:
    ///   - action: the action name.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    /// - Returns: a receipt shared by the frames of the same write.
    /// - Throws: ``ConnectionError`` when it cannot be queued.
    @discardableResult
    public func enqueueMessage(_ action: String, args: [JSONValue] = [], kwargs: JSONObject = [:]) throws(ConnectionError) -> SendReceipt {
        try enqueue(.action(action, args: args, kwargs: kwargs))
    }

    private func checkCanQueue(_ s: inout State) throws(ConnectionError) {
        if s.isClosed { throw .closed }
        if s.channel == nil && !configuration.resumeQueue { throw .notConnected }
        let queued = s.outbound.readableBytes + s.inFlightBytes
        if queued > configuration.maximumQueuedBytes {
            throw .queueFull(queuedBytes: queued, limit: configuration.maximumQueuedBytes)
        }
    }

    /// The receipt for what was just queued, and whether a flush must be scheduled.
    private func takeReceipt(_ s: inout State) -> (SendReceipt, Bool) {
        let promise: EventLoopPromise<Void>
        if let existing = s.outboundPromise {
            promise = existing
        } else {
            promise = eventLoop.makePromise()
            s.outboundPromise = promise
        }
        let flush = s.channel != nil && !s.flushScheduled
        if flush { s.flushScheduled = true }
        return (SendReceipt(future: promise.futureResult), flush)
    }

    private func scheduleFlush() {
        eventLoop.execute { self.flushOutbound() }
    }

    /// Writes everything queued with one flush. Runs on the event loop.
    private func flushOutbound() {
        let work = state.withLockedValue { s -> (any Channel, ByteBuffer, EventLoopPromise<Void>?)? in
            s.flushScheduled = false
            guard let channel = s.channel, s.outbound.readableBytes > 0 else { return nil }
            let bytes = s.outbound
            s.outbound = channel.allocator.buffer(capacity: min(bytes.readableBytes, 64 * 1024))
            s.inFlightBytes += bytes.readableBytes
            let promise = s.outboundPromise
            s.outboundPromise = nil
            return (channel, bytes, promise)
        }
        guard let (channel, bytes, promise) = work else { return }
        let count = bytes.readableBytes
        channel.writeAndFlush(bytes).whenComplete { result in
            self.state.withLockedValue { $0.inFlightBytes -= count }
            switch result {
            case .success: promise?.succeed()
            case .failure: promise?.fail(ConnectionError.connectionLost)
            }
        }
    }

    // MARK: - Requests

    /// Asks the peer for a value and waits for the reply.
    /// - Parameters:
    ///   - requestedValue: the name of the value; the peer's request handler for it answers.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - timeout: how long to wait (default ``ConnectionConfiguration/defaultRequestTimeout``).
    /// - Returns: the reply's value.
    /// - Throws: ``ConnectionError``: timed out, cancelled, closed, lost, or the
    ///   peer's error reply (``ConnectionError/remote(_:)``).
    public func request(
        _ requestedValue: String,
        args: [JSONValue] = [],
        kwargs: JSONObject = [:],
        timeout: TimeAmount? = nil
    ) async throws(ConnectionError) -> JSONValue {
        let promise = eventLoop.makePromise(of: JSONValue.self)
        let id = try startRequest(requestedValue, args: args, kwargs: kwargs, completion: .promise(promise), timeout: timeout)
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                self.failRequest(id: id, with: .cancelled)
            }
        } catch let error as ConnectionError {
            throw error
        } catch {
            throw .connectionLost
        }
    }

    /// Asks the peer for a value and calls `callback` with the reply (the seed's `get_response`).
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
    /// - Throws: ``ConnectionError`` when the request cannot be sent.
    @discardableResult
    public func getResponse(
        _ requestedValue: String,
        requestArgs: [JSONValue] = [],
        requestKwargs: JSONObject = [:],
        callbackArgs: [JSONValue] = [],
        callbackKwargs: JSONObject = [:],
        timeout: TimeAmount? = nil,
        onError: (@Sendable (ConnectionError) -> Void)? = nil,
        callback: @escaping @Sendable (Connection, JSONValue, [JSONValue], JSONObject) -> Void
    ) throws(ConnectionError) -> String {
        let logger = self.logger
        let completion = PendingRequests.Completion.callback { [self] result in
            switch result {
            case .success(let value): callback(self, value, callbackArgs, callbackKwargs)
            case .failure(let error):
                if let onError { onError(error) } else { logger.warning("request for \(requestedValue) failed: \(error)") }
            }
        }
        return try startRequest(requestedValue, args: requestArgs, kwargs: requestKwargs, completion: completion, timeout: timeout)
    }

    /// Registers a pending request, queues its frame when linked, and arms its timer.
    private func startRequest(
        _ requestedValue: String,
        args: [JSONValue],
        kwargs: JSONObject,
        completion: PendingRequests.Completion,
        timeout: TimeAmount?
    ) throws(ConnectionError) -> String {
        let timeout = timeout ?? configuration.defaultRequestTimeout
        let (id, flush) = try withState { s throws(ConnectionError) -> (String, Bool) in
            if s.isClosed { throw .closed }
            let linked = s.channel != nil
            if !linked && !configuration.resendRequests && !configuration.resumeQueue { throw .notConnected }
            let id = Self.formatRequestID(s.nextRequestNumber)
            s.nextRequestNumber += 1
            var flush = false
            if linked {
                let queued = s.outbound.readableBytes + s.inFlightBytes
                if queued > configuration.maximumQueuedBytes {
                    throw .queueFull(queuedBytes: queued, limit: configuration.maximumQueuedBytes)
                }
                do throws(FrameEncodingError) {
                    try s.writer.write(requestFrame(requestedValue, id: id, args: args, kwargs: kwargs), into: &s.outbound)
                } catch {
                    throw .encoding(error)
                }
                flush = takeReceipt(&s).1
            }
            let entry = PendingRequests.Entry(
                requestedValue: requestedValue,
                args: args,
                kwargs: kwargs,
                completion: completion,
                timeout: nil,
                written: linked
            )
            s.pending.add(id: id, entry: entry)
            return (id, flush)
        }
        if let timeout {
            let task = eventLoop.scheduleTask(in: timeout) {
                self.failRequest(id: id, with: .timedOut(requestedValue: requestedValue, requestID: id, timeout: timeout))
            }
            let armed = state.withLockedValue { $0.pending.setTimeout(id: id, task) }
            if !armed { task.cancel() }
        }
        if flush { scheduleFlush() }
        return id
    }

    private func requestFrame(_ requestedValue: String, id: String, args: [JSONValue], kwargs: JSONObject) -> Frame {
        let extra: JSONObject = configuration.announceErrorReplies ? [ExtensionHeader.errorReplies: .integer(1)] : [:]
        return .request(requestedValue, id: .string(id), args: args, kwargs: kwargs, extra: extra)
    }

    private func failRequest(id: String, with error: ConnectionError) {
        guard let entry = state.withLockedValue({ $0.pending.remove(id: id) }) else { return }
        if case .timedOut = error { logger.debug("request \(id) for \(entry.requestedValue) timed out") }
        entry.finish(.failure(error))
    }

    /// Request ids: a per-connection counter as a zero-padded decimal string
    /// of at least 4 digits (the reference's shape, without its collisions).
    static func formatRequestID(_ number: Int) -> String {
        let digits = String(number)
        return digits.count >= 4 ? digits : String(repeating: "0", count: 4 - digits.count) + digits
    }

    // MARK: - Replies

    /// Queues a value reply to a request.
    func reply(to requestedValue: String, id: JSONValue, value: JSONValue) {
        do {
            try enqueue(.response(requestedValue, id: id, value: value))
        } catch {
            logger.warning("cannot reply to \(requestedValue) request \(id): \(error)")
        }
    }

    /// Queues an error reply (only for peers that announced they understand them).
    func replyError(to requestedValue: String, id: JSONValue, _ error: RemoteError) {
        do {
            var frame = Frame.response(requestedValue, id: id, value: .null)
            frame.content = .json(["value": .null, "error": error.jsonValue])
            try enqueue(frame)
        } catch {
            logger.warning("cannot send error reply to \(requestedValue) request \(id): \(error)")
        }
    }

    // MARK: - Links

    /// A link came up: resume or fail the queue, resend pending requests.
    func attach(_ channel: any Channel) {
        let flush = state.withLockedValue { s -> Bool in
            s.channel = channel
            s.remoteAddress = channel.remoteAddress
            s.linkCount += 1
            for (id, entry) in s.pending.linkUp(resend: configuration.resendRequests) {
                // Cannot fail: this frame was encoded once already when it was first made.
                try? s.writer.write(requestFrame(entry.requestedValue, id: id, args: entry.args, kwargs: entry.kwargs), into: &s.outbound)
            }
            let waiters = s.linkWaiters
            s.linkWaiters = []
            for waiter in waiters { waiter.succeed() }
            guard s.outbound.readableBytes > 0 else { return false }
            if s.outboundPromise == nil { s.outboundPromise = eventLoop.makePromise() }
            let flush = !s.flushScheduled
            s.flushScheduled = true
            return flush
        }
        logger.debug("link up", metadata: ["peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
        if flush { scheduleFlush() }
    }

    /// A link went down: fail what is not kept for the next link.
    func detach(_ channel: any Channel) {
        let (droppedQueue, failedRequests, closePromises, closed) = state.withLockedValue { s in
            guard let current = s.channel, current === channel else {
                return (nil as EventLoopPromise<Void>?, [PendingRequests.Entry](), [EventLoopPromise<Void>](), s.isClosed)
            }
            s.channel = nil
            var dropped: EventLoopPromise<Void>?
            if !configuration.resumeQueue || s.isClosed {
                dropped = s.outboundPromise
                s.outboundPromise = nil
                s.outbound.clear()
            }
            let failed = s.isClosed ? s.pending.removeAll() : s.pending.linkDown(keepForResend: configuration.resendRequests)
            let promises = s.closePromises
            s.closePromises = []
            return (dropped, failed, promises, s.isClosed)
        }
        logger.debug("link down")
        droppedQueue?.fail(ConnectionError.connectionLost)
        for entry in failedRequests { entry.finish(.failure(closed ? .closed : .connectionLost)) }
        for promise in closePromises { promise.succeed() }
    }

    /// Waits until a link is up.
    /// - Parameter timeout: how long to wait.
    /// - Throws: ``ConnectionError/closed`` if the connection is closed,
    ///   ``ConnectionError/notConnected`` when no link came up in time.
    public func waitUntilConnected(timeout: TimeAmount = .seconds(10)) async throws(ConnectionError) {
        let promise = eventLoop.makePromise(of: Void.self)
        let ready = try withState { s throws(ConnectionError) -> Bool in
            if s.isClosed { throw .closed }
            if s.channel != nil { return true }
            s.linkWaiters.append(promise)
            return false
        }
        if ready {
            promise.succeed()
            return
        }
        let timer = eventLoop.scheduleTask(in: timeout) { promise.fail(ConnectionError.notConnected) }
        do {
            try await promise.futureResult.get()
            timer.cancel()
        } catch let error as ConnectionError {
            throw error
        } catch {
            throw .notConnected
        }
    }

    /// Drops the current link at once, as a network failure would, without
    /// closing the connection: a client reconnects it, and pending requests are
    /// resent per ``ConnectionConfiguration/resendRequests``.
    public func dropLink() {
        let channel = state.withLockedValue { $0.channel }
        channel?.close(promise: nil)
    }

    /// Closes the connection for good: queued frames are written first, then
    /// the link closes; pending requests fail with ``ConnectionError/closed``.
    public func close() async {
        try? await startClose()?.get()
    }

    /// Starts closing; returns a future for the link's end when there is a link.
    @discardableResult
    func startClose(pendingError: ConnectionError = .closed) -> EventLoopFuture<Void>? {
        var unsentFrames: EventLoopPromise<Void>?
        let (channel, pending, waiters, done) = state.withLockedValue { s in
            s.isClosed = true
            let pending = s.pending.removeAll()
            let waiters = s.linkWaiters
            s.linkWaiters = []
            guard let channel = s.channel else {
                // Nothing can carry what is queued any more: its senders learn it.
                s.outbound.clear()
                unsentFrames = s.outboundPromise
                s.outboundPromise = nil
                return ((any Channel)?.none, pending, waiters, EventLoopFuture<Void>?.none)
            }
            let promise = eventLoop.makePromise(of: Void.self)
            s.closePromises.append(promise)
            return (channel, pending, waiters, promise.futureResult)
        }
        unsentFrames?.fail(ConnectionError.closed)
        for entry in pending { entry.finish(.failure(pendingError)) }
        for waiter in waiters { waiter.fail(ConnectionError.closed) }
        guard let channel else { return nil }
        eventLoop.execute {
            self.flushOutbound()
            channel.close(promise: nil)
        }
        return done
    }

    // MARK: - Receiving

    /// Handles one decoded part from the current link. Runs on the event loop.
    func receive(_ part: FramePart) {
        switch part {
        case .frame(let frame):
            receive(frame)
        case .binaryHead(let header):
            logger.warning("binary frames are not accepted on this connection; dropping", metadata: ["bytes": "\(header.contentLength)"])
        case .binaryBody, .binaryEnd:
            break
        }
    }

    private func receive(_ frame: Frame) {
        switch frame.header.messageType {
        case .message: receiveAction(frame)
        case .request: receiveRequest(frame)
        case .response: receiveResponse(frame)
        case .other(let type): logger.warning("dropping frame of unknown message-type \"\(type)\"")
        }
    }

    /// `args` and `kwargs` of an action or request; `null` or missing counts as empty
    /// (a reference peer resends requests with `"args": null`).
    private static func arguments(_ content: JSONValue?) -> ([JSONValue], JSONObject) {
        (content?["args"]?.arrayValue ?? [], content?["kwargs"]?.objectValue ?? [:])
    }

    private func receiveAction(_ frame: Frame) {
        guard let name = frame.header.action else {
            logger.warning("dropping message without action")
            return
        }
        let (args, kwargs) = Self.arguments(frame.content.jsonValue)
        guard let handler = registry.action(name) else {
            logger.warning("no handler for action \"\(name)\"; dropped")
            return
        }
        switch handler {
        case .sync(let handler):
            do {
                try handler(self, args, kwargs)
            } catch {
                logger.warning("handler for action \"\(name)\" failed: \(error)")
            }
        case .async(let handler):
            Task {
                do {
                    try await handler(self, args, kwargs)
                } catch {
                    self.logger.warning("handler for action \"\(name)\" failed: \(error)")
                }
            }
        }
    }

    private func receiveRequest(_ frame: Frame) {
        let content = frame.content.jsonValue
        guard let requestedValue = content?["requested_value"]?.stringValue, let id = content?["request_id"] else {
            logger.warning("dropping request without requested_value or request_id")
            return
        }
        let wantsErrors = frame.header.extra[ExtensionHeader.errorReplies] != nil
        if wantsErrors { state.withLockedValue { $0.peerSpeaksExtensions = true } }
        let (args, kwargs) = Self.arguments(content)
        guard let handler = registry.request(requestedValue) else {
            logger.warning("no handler for request \"\(requestedValue)\"")
            if wantsErrors {
                replyError(to: requestedValue, id: id, RemoteError(code: RemoteError.Code.unknownRequest, message: "no handler for \"\(requestedValue)\""))
            }
            return
        }
        switch handler {
        case .sync(let handler):
            do {
                reply(to: requestedValue, id: id, value: try handler(self, args, kwargs))
            } catch {
                handlerFailed(requestedValue, id: id, error, wantsErrors: wantsErrors)
            }
        case .async(let handler):
            Task {
                do {
                    self.reply(to: requestedValue, id: id, value: try await handler(self, args, kwargs))
                } catch {
                    self.handlerFailed(requestedValue, id: id, error, wantsErrors: wantsErrors)
                }
            }
        }
    }

    private func handlerFailed(_ requestedValue: String, id: JSONValue, _ error: any Error, wantsErrors: Bool) {
        logger.warning("handler for request \"\(requestedValue)\" failed: \(error)")
        if wantsErrors {
            replyError(to: requestedValue, id: id, RemoteError(code: RemoteError.Code.handlerFailed, message: "\(error)"))
        }
    }

    private func receiveResponse(_ frame: Frame) {
        let action = state.withLockedValue {
            $0.pending.receiveResponse(id: frame.header.requestID, requestedValue: frame.header.requestedValue)
        }
        switch action {
        case .unexpected(let reason):
            logger.warning("unexpected response dropped: \(reason)")
        case .deliver(let entry):
            let content = frame.content.jsonValue
            if let error = RemoteError(content?["error"]) {
                entry.finish(.failure(.remote(error)))
            } else {
                entry.finish(.success(content?["value"] ?? .null))
            }
        }
    }
}
