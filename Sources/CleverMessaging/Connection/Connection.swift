import Logging
import NIOConcurrencyHelpers
import NIOCore
import OrderedCollections

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
    /// When bytes last arrived from the peer (updated once per read batch).
    let lastInbound = NIOLockedValueBox(NIODeadline.now())
    let state: AdaptiveLockedBox<State>
    /// The request timer (its own object, so that timers need no weak reference to the connection).
    let timeouts: RequestTimeouts
    /// Whether the peer showed the extensions, as seen on the event loop
    /// (``State/peerSpeaksExtensions`` is the copy other threads read).
    let extensionsSeen: NIOLoopBoundBox<Bool>
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
        /// Bytes of replies in `outbound` (see ``Connection/enqueueReply(encoding:)``).
        var replyBytesQueued = 0
        /// Bytes of replies handed to the current link and not yet written.
        var replyBytesInFlight = 0
        /// Reading the current link is stopped because its replies pile up.
        var pausedForReplies = false
        /// How many times reading stopped for replies (for tests and diagnostics).
        var replyPauses = 0
        /// Writes to the current link that completed: its progress, for the stall check.
        var writesCompleted = 0
        /// Stops and starts reading the current link.
        var readGate: ReadGate?
        /// Handler tasks running (``Connection/runHandlerTask(_:)``), across links.
        var runningHandlers = 0
        /// Reading the current link is stopped because too many handler tasks run.
        var pausedForHandlers = false
        /// The last write handed to the current link (see ``Connection/flushed()``).
        var lastWrite: EventLoopFuture<Void>?
        var flushScheduled = false
        /// When the last flush wrote to the link (for the burst window of ``Connection/flushAskedFromElsewhere()``).
        var lastFlushAt = NIODeadline.uptimeNanoseconds(0)
        /// A caller waits for what is queued (an `async` send or request): the
        /// next flush is not held back for a burst.
        var flushAwaited = false
        var writer = FrameWriter()
        var peerSpeaksExtensions = false
        var linkCount = 0
        var closePromises: [EventLoopPromise<Void>] = []
        var linkWaiters: [EventLoopPromise<Void>] = []
        /// When the next ping is due (set when a link comes up, if pings are on).
        var nextPingAt: NIODeadline?
        /// The ping waiting for its answer.
        var ping: OutstandingPing?
        /// The one timer that fails requests past their deadline.
        var timeoutTimer: Scheduled<Void>?
        var armedDeadline: NIODeadline?
        /// Which scheduled timer is the current one (replaced timers are left to fire idle).
        var timerGeneration = 0
        var armTimeoutsScheduled = false
        /// The event loop is handling a read batch; flushes wait for its end.
        var readBatchActive = false
        /// A file body is being written to the link: other frames wait in `outbound`.
        var streamActive = false
        var streamWaiters: [EventLoopPromise<Void>] = []
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
        self.extensionsSeen = .makeBoxSendingValue(false, eventLoop: eventLoop)
        var state = State()
        state.writer = FrameWriter(marker: configuration.announceExtensions ? ExtensionHeader.capabilities : nil)
        let box = AdaptiveLockedBox(state)
        self.state = box
        self.timeouts = RequestTimeouts(state: box, eventLoop: eventLoop, logger: logger)
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
    func withState<T>(_ body: (inout State) throws(ConnectionError) -> T) throws(ConnectionError) -> T {
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
        try enqueue { writer, out throws(FrameEncodingError) in try writer.write(frame, into: &out) }
    }

    /// Queues what `encode` appends to the outbound buffer (whole frames).
    /// - Parameter awaited: whether the caller waits for the write (then the
    ///   flush is not held back for a burst, see ``burstWindow``).
    @inline(__always)
    func enqueue(
        awaited: Bool = false,
        encoding encode: (inout FrameWriter, inout ByteBuffer) throws(FrameEncodingError) -> Void
    ) throws(ConnectionError) -> SendReceipt {
        let (receipt, flush) = try withState { s throws(ConnectionError) in
            try self.checkCanQueue(&s)
            if awaited { s.flushAwaited = true }
            do throws(FrameEncodingError) {
                try encode(&s.writer, &s.outbound)
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
        try await enqueue(awaited: true) { writer, out throws(FrameEncodingError) in
            try writer.writeAction(action, args: args, kwargs: kwargs, into: &out)
        }.written()
    }

    /// Waits until every frame queued so far was written to the socket: a
    /// producer that queues without waiting (``getResponse(_:requestArgs:requestKwargs:callbackArgs:callbackKwargs:timeout:onError:callback:)``,
    /// ``enqueueMessage(_:args:kwargs:)``) calls it now and then, so that its
    /// queue stays short instead of reaching ``ConnectionConfiguration/maximumQueuedBytes``.
    /// Returns at once when nothing waits to be written.
    /// - Throws: ``ConnectionError``: `.closed` when the connection is closed,
    ///   `.connectionLost` when the link dropped before the frames were written.
    public func flushed() async throws(ConnectionError) {
        let (receipt, flush) = try withState { s throws(ConnectionError) -> (SendReceipt?, Bool) in
            if s.isClosed { throw .closed }
            if s.outbound.readableBytes > 0 { return takeReceipt(&s) }
            return (s.lastWrite.map { SendReceipt(future: $0) }, false)
        }
        if flush { scheduleFlush() }
        try await receipt?.written()
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
        try enqueue { writer, out throws(FrameEncodingError) in
            try writer.writeAction(action, args: args, kwargs: kwargs, into: &out)
        }
    }

    func checkCanQueue(_ s: inout State) throws(ConnectionError) {
        if s.isClosed { throw .closed }
        if s.channel == nil && !configuration.resumeQueue { throw .notConnected }
        let queued = s.outbound.readableBytes + s.inFlightBytes
        if queued > configuration.maximumQueuedBytes {
            throw .queueFull(queuedBytes: queued, limit: configuration.maximumQueuedBytes)
        }
    }

    /// The receipt for what was just queued, and whether a flush must be scheduled.
    func takeReceipt(_ s: inout State) -> (SendReceipt, Bool) {
        let promise: EventLoopPromise<Void>
        if let existing = s.outboundPromise {
            promise = existing
        } else {
            promise = eventLoop.makePromise()
            s.outboundPromise = promise
        }
        return (SendReceipt(future: promise.futureResult), needsFlush(&s))
    }

    /// Whether what was just queued needs a flush to be scheduled (and notes
    /// that one will be), without a receipt: for frames nobody waits on the
    /// write of (replies, requests, whose callers wait for the answer), which
    /// then cost no promise.
    func needsFlush(_ s: inout State) -> Bool {
        let flush = s.channel != nil && !s.flushScheduled
        if flush { s.flushScheduled = true }
        return flush
    }

    /// Queues a reply (whole frames that `encode` appends). Replies are not held
    /// to ``ConnectionConfiguration/maximumQueuedBytes``, so that a busy sender
    /// never makes this side drop an answer; they are counted in the reply
    /// backlog instead, and when it grows past
    /// ``ConnectionConfiguration/maximumReplyBacklog`` the link is no longer
    /// read (``flushOutbound()``), so no more requests, and no more replies, come in.
    func enqueueReply(
        encoding encode: (inout FrameWriter, inout ByteBuffer) throws(FrameEncodingError) -> Void
    ) throws(ConnectionError) {
        let (flush, pause) = try withState { s throws(ConnectionError) -> (Bool, (gate: ReadGate, writes: Int)?) in
            if s.isClosed { throw .closed }
            if s.channel == nil && !configuration.resumeQueue { throw .notConnected }
            let before = s.outbound.writerIndex
            do throws(FrameEncodingError) {
                try encode(&s.writer, &s.outbound)
            } catch {
                throw .encoding(error)
            }
            s.replyBytesQueued += s.outbound.writerIndex - before
            return (self.needsFlush(&s), self.pauseForReplies(&s))
        }
        if flush { scheduleFlush() }
        if let pause { pauseReading(pause) }
    }

    /// Stops reading (in the gate, together with the decision, under the state
    /// lock) when the replies waiting for the peer, queued or in flight, are more
    /// than ``ConnectionConfiguration/maximumReplyBacklog`` and reading does not
    /// stop for them yet; then returns what ``pauseReading(_:)`` needs.
    private func pauseForReplies(_ s: inout State) -> (gate: ReadGate, writes: Int)? {
        guard !s.pausedForReplies, s.replyBytesQueued + s.replyBytesInFlight > configuration.maximumReplyBacklog,
              let gate = s.readGate else { return nil }
        s.pausedForReplies = true
        s.replyPauses += 1
        gate.hold(.replyBacklog, true)
        return (gate, s.writesCompleted)
    }

    /// Applies a pause of ``pauseForReplies(_:)`` to the channel, and watches the link for a stall.
    private func pauseReading(_ pause: (gate: ReadGate, writes: Int)) {
        logger.debug("replies wait for the peer (more than \(configuration.maximumReplyBacklog) bytes): reading paused")
        pause.gate.apply()
        watchForStall(pause.gate, writesAtPause: pause.writes)
    }

    func scheduleFlush() {
        if eventLoop.inEventLoop {
            // Replies made while a read batch is handled go out together at its end
            // (`readBatchEnded()`), without an extra trip through the event loop.
            if state.withLockedValue({ $0.readBatchActive }) { return }
            eventLoop.execute { self.flushOutbound() }
        } else {
            eventLoop.execute { self.flushAskedFromElsewhere() }
        }
    }

    /// How long after a flush a flush asked from another thread waits, so
    /// that a burst of sends from a task is written in few system calls.
    ///
    /// Without it, a sender that queues frames one by one wakes the event
    /// loop for almost every frame (the loop writes what is queued at once
    /// and goes back to sleep), which costs a wake-up, a context switch and
    /// a `write` per frame or two on both sides. A flush asked later than
    /// this after the previous one (one request at a time: a whole round
    /// trip apart) is not delayed at all, nor is one for a frame whose sender
    /// waits for it (``sendMessage(_:args:kwargs:)``, ``request(_:args:kwargs:timeout:)``):
    /// only frames queued without waiting (``enqueueMessage(_:args:kwargs:)``,
    /// ``getResponse(_:requestArgs:requestKwargs:callbackArgs:callbackKwargs:timeout:onError:callback:)``, ...) are held back.
    static let burstWindow = TimeAmount.microseconds(20)

    /// A flush asked from another thread: done now, unless the last flush
    /// was less than ``burstWindow`` ago (a burst), when it waits for the
    /// rest of the window and takes what was queued meanwhile. Runs on the event loop.
    func flushAskedFromElsewhere() {
        let now = NIODeadline.now()
        let wait = state.withLockedValue { s -> TimeAmount? in
            if s.flushAwaited { return nil }
            let since = now - s.lastFlushAt
            return since < Self.burstWindow ? Self.burstWindow - since : nil
        }
        guard let wait else {
            flushOutbound()
            return
        }
        eventLoop.scheduleTask(in: wait) { self.flushOutbound() }
    }

    /// A read batch is being handled on the event loop.
    func readBatchStarted() {
        state.withLockedValue { $0.readBatchActive = true }
    }

    /// The read batch ended: writes what its handlers queued. Runs on the event loop.
    func readBatchEnded() {
        state.withLockedValue { $0.readBatchActive = false }
        flushOutbound()
    }

    /// Writes everything queued with one flush. Runs on the event loop.
    func flushOutbound() {
        // The only reference to the bytes taken (`outbound` is left empty, without
        // storage), so that the storage can be given back once written.
        var bytes = ByteBuffer()
        let replyLimit = configuration.maximumReplyBacklog
        let work = state.withLockedValue { s -> (any Channel, EventLoopPromise<Void>, EventLoopPromise<Void>?, replies: Int, pause: (gate: ReadGate, writes: Int)?)? in
            s.flushScheduled = false
            guard let channel = s.channel, s.outbound.readableBytes > 0, !s.streamActive else { return nil }
            s.lastFlushAt = .now()
            s.flushAwaited = false
            swap(&bytes, &s.outbound)
            s.inFlightBytes += bytes.readableBytes
            let promise = s.outboundPromise
            s.outboundPromise = nil
            let write = eventLoop.makePromise(of: Void.self)
            s.lastWrite = write.futureResult
            let replies = s.replyBytesQueued
            s.replyBytesQueued = 0
            s.replyBytesInFlight += replies
            return (channel, write, promise, replies, self.pauseForReplies(&s))
        }
        guard let (channel, write, promise, replies, pause) = work else { return }
        let count = bytes.readableBytes
        // A long write goes out in slices, each of which counts as progress when
        // written, so that a slow but reading peer is never taken for a stalled one.
        while bytes.readableBytes > Self.progressSlice {
            channel.write(bytes.readSlice(length: Self.progressSlice)!).whenSuccess {
                self.state.withLockedValue { s in
                    if let current = s.channel, current === channel { s.writesCompleted &+= 1 }
                }
            }
        }
        channel.writeAndFlush(bytes, promise: write)
        write.futureResult.whenComplete { result in
            let resume = self.state.withLockedValue { s -> ReadGate? in
                s.inFlightBytes -= count
                guard let current = s.channel, current === channel else { return nil }
                s.writesCompleted &+= 1
                s.replyBytesInFlight -= replies
                guard s.pausedForReplies, s.replyBytesQueued + s.replyBytesInFlight <= replyLimit / 2 else { return nil }
                s.pausedForReplies = false
                s.readGate?.hold(.replyBacklog, false)
                return s.readGate
            }
            resume?.apply()
            switch result {
            case .success: promise?.succeed()
            case .failure: promise?.fail(ConnectionError.connectionLost)
            }
        }
        recycle(&bytes)
        if let pause { pauseReading(pause) }
    }

    /// Bytes per slice of a long write (see ``flushOutbound()``): a peer that
    /// reads at least this much per ``ConnectionConfiguration/stalledPeerTimeout``
    /// is not stalled.
    static let progressSlice = 256 * 1024

    /// While reading is paused for replies, drops the link if the peer reads
    /// none of them for ``ConnectionConfiguration/stalledPeerTimeout``.
    private func watchForStall(_ gate: ReadGate, writesAtPause: Int) {
        guard let timeout = configuration.stalledPeerTimeout else { return }
        enum Verdict { case resumed, stalled, progressed(writes: Int) }
        eventLoop.scheduleTask(in: timeout) {
            let verdict = self.state.withLockedValue { s -> Verdict in
                guard s.pausedForReplies, let current = s.readGate, current === gate else { return .resumed }
                // A file body going out holds the replies back; its writes are progress too.
                if s.streamActive { return .progressed(writes: s.writesCompleted) }
                return s.writesCompleted == writesAtPause ? .stalled : .progressed(writes: s.writesCompleted)
            }
            switch verdict {
            case .resumed:
                return
            case .stalled:
                self.logger.warning("the peer read none of its replies for \(timeout); link dropped")
                gate.channel.close(promise: nil)
            case .progressed(let writes):
                self.watchForStall(gate, writesAtPause: writes)
            }
        }
    }

    /// Gives a written buffer's storage back to `outbound` when nothing was
    /// queued since the flush took it, so that the next frames need no
    /// allocation. The socket usually took the bytes at once, leaving this the
    /// only reference; otherwise `clear()` allocates fresh storage, as a new
    /// buffer would. Storage grown past 64 KiB by a burst is let go. Runs on the event loop.
    private func recycle(_ bytes: inout ByteBuffer) {
        guard bytes.capacity <= 64 * 1024 else { return }
        bytes.clear()
        state.withLockedValue { s in
            if s.outbound.capacity == 0 { swap(&s.outbound, &bytes) }
        }
    }

    // MARK: - Streams

    /// Takes the link for a streamed file body: waits for any other stream,
    /// then writes what is queued so that frames keep their order. Frames sent
    /// meanwhile wait until ``releaseStream()``.
    /// - Returns: the channel to write the stream to.
    func acquireStream() async throws(ConnectionError) -> any Channel {
        while true {
            let waiter = eventLoop.makePromise(of: Void.self)
            let taken = try withState { s throws(ConnectionError) -> ((any Channel), ByteBuffer, EventLoopPromise<Void>?)? in
                if s.isClosed { throw .closed }
                guard let channel = s.channel else { throw .notConnected }
                if s.streamActive {
                    s.streamWaiters.append(waiter)
                    return nil
                }
                s.streamActive = true
                let queued = s.outbound
                s.outbound.clear()
                // Counted as written: reading is not paused for replies ahead of a stream.
                s.replyBytesQueued = 0
                let promise = s.outboundPromise
                s.outboundPromise = nil
                return (channel, queued, promise)
            }
            guard let (channel, queued, promise) = taken else {
                do {
                    try await waiter.futureResult.get()
                } catch {
                    throw .connectionLost
                }
                continue
            }
            waiter.succeed()
            if queued.readableBytes > 0 {
                channel.writeAndFlush(queued, promise: promise)
            } else {
                promise?.succeed()
            }
            return channel
        }
    }

    /// Gives the link back after a stream; queued frames go out.
    func releaseStream() {
        let (next, flush) = state.withLockedValue { s -> (EventLoopPromise<Void>?, Bool) in
            s.streamActive = false
            let next = s.streamWaiters.isEmpty ? nil : s.streamWaiters.removeFirst()
            let flush = s.channel != nil && s.outbound.readableBytes > 0 && !s.flushScheduled
            if flush { s.flushScheduled = true }
            return (next, flush)
        }
        if flush { scheduleFlush() }
        next?.succeed()
    }

    // MARK: - Ping

    /// A ping sent and not answered yet.
    struct OutstandingPing {
        /// The request id of the ping.
        var id: String
        /// When it went out.
        var sent: NIODeadline
    }

    /// Starts the ping schedule of a new link (the loop's ``PingSweeper`` does the rest).
    private func startPinging() {
        guard let interval = configuration.pingInterval, configuration.announceExtensions,
              let tick = PingSweeper.tick(for: configuration) else { return }
        let first = NIODeadline.now() + interval
        state.withLockedValue { s in
            s.nextPingAt = first
            s.ping = nil
        }
        PingSweeper.add(self, tick: tick, firstLook: first)
    }

    /// Called by the loop's ``PingSweeper`` when this connection asked for a
    /// look: sends a ping when one is due and the peer has been silent for a
    /// whole interval (any bytes from the peer prove the link as well as a
    /// reply would), and drops the link when a ping went unanswered for
    /// ``ConnectionConfiguration/pingTimeout`` while the peer sent nothing.
    /// Runs on the event loop.
    /// - Returns: when to look again; `nil` once the link is gone.
    @discardableResult
    func pingIfDue(now: NIODeadline) -> NIODeadline? {
        guard let interval = configuration.pingInterval else { return nil }
        let timeout = configuration.pingTimeout
        enum Step { case nothing, ping, gaveUp(OutstandingPing, silent: Bool) }
        let lastInbound = self.lastInbound.withLockedValue { $0 }
        let (step, nextLook) = state.withLockedValue { s -> (Step, NIODeadline?) in
            guard s.channel != nil else { return (.nothing, nil) }
            // A peer that has not shown the extensions yet may still show them.
            guard s.peerSpeaksExtensions else { return (.nothing, now + interval) }
            let due = s.nextPingAt ?? now
            if let ping = s.ping {
                guard now >= ping.sent + timeout else { return (.nothing, min(due, ping.sent + timeout)) }
                s.ping = nil
                s.nextPingAt = now + interval
                return (.gaveUp(ping, silent: lastInbound < ping.sent), now + interval)
            }
            guard now >= due else { return (.nothing, due) }
            if lastInbound + interval > now {
                s.nextPingAt = lastInbound + interval
                return (.nothing, lastInbound + interval)
            }
            s.nextPingAt = now + interval
            return (.ping, now + min(interval, timeout))
        }
        switch step {
        case .nothing:
            break
        case .gaveUp(let ping, let silent):
            failRequest(id: ping.id, with: .timedOut(requestedValue: ExtensionHeader.ping, requestID: ping.id, timeout: configuration.pingTimeout))
            if silent {
                logger.warning("peer sent nothing and did not answer a ping in time; dropping the link")
                dropLink()
            }
        case .ping:
            do {
                let id = try startRequest(
                    ExtensionHeader.ping,
                    args: [],
                    kwargs: [:],
                    completion: .callback { [state] _ in
                        // Answered, or failed with the link: the next ping may go. The state,
                        // not the connection, is held (no weak reference, see `RequestTimeouts`):
                        // the entry holding this leaves the state when answered, when it gives up,
                        // when the link drops (pings are not kept for resending) or at the close.
                        state.withLockedValue { s in s.ping = nil }
                    },
                    timeout: nil,
                    expires: false
                )
                state.withLockedValue { s in
                    s.pending.setResendable(id: id, false)
                    if s.pending.contains(id: id) { s.ping = OutstandingPing(id: id, sent: now) }
                }
            } catch {
                logger.debug("cannot ping: \(error)")
            }
        }
        return nextLook
    }

    // MARK: - Links

    /// A link came up: resume or fail the queue, resend pending requests.
    func attach(_ channel: any Channel) {
        let flush = state.withLockedValue { s -> Bool in
            s.channel = channel
            s.readGate = ReadGate(channel: channel)
            s.replyBytesInFlight = 0
            s.pausedForReplies = false
            s.pausedForHandlers = false
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
        startPinging()
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
            s.readGate = nil
            s.lastWrite = nil
            s.replyBytesInFlight = 0
            s.pausedForReplies = false
            s.pausedForHandlers = false
            s.flushScheduled = false
            s.readBatchActive = false
            var dropped: EventLoopPromise<Void>?
            if !configuration.resumeQueue || s.isClosed {
                dropped = s.outboundPromise
                s.outboundPromise = nil
                s.outbound.clear()
                s.replyBytesQueued = 0
            }
            let failed = s.isClosed ? s.pending.removeAll() : s.pending.linkDown(keepForResend: configuration.resendRequests)
            let promises = s.closePromises
            s.closePromises = []
            s.nextPingAt = nil
            s.ping = nil
            return (dropped, failed, promises, s.isClosed)
        }
        PingSweeper.remove(self)
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
            s.timeoutTimer?.cancel()
            s.timeoutTimer = nil
            s.armedDeadline = nil
            s.nextPingAt = nil
            s.ping = nil
            let pending = s.pending.removeAll()
            let waiters = s.linkWaiters
            s.linkWaiters = []
            guard let channel = s.channel else {
                // Nothing can carry what is queued any more: its senders learn it.
                s.outbound.clear()
                s.replyBytesQueued = 0
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
}
