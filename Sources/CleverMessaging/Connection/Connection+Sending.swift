import OrderedCollections
import Logging
import NIOCore
import OrderedCollections

extension Connection {
    // MARK: - Sending

    /// Queues a frame for the peer and returns at once.
    /// - Parameter frame: the frame.
    /// - Returns: a receipt that tells when the frame reached the socket.
    /// - Throws: ``MessagingError`` when the frame cannot be queued
    ///   (closed, not connected without ``ConnectionConfiguration/resumeQueue``, queue full, encoding).
    @discardableResult
    package func enqueue(_ frame: Frame) throws(MessagingError) -> SendReceipt {
        try enqueue { writer, out throws(FrameEncodingError) in try writer.write(frame, into: &out) }
    }

    /// Queues what `encode` appends to the outbound buffer (whole frames).
    /// - Parameter awaited: whether the caller waits for the write (then the
    ///   flush is not held back for a burst, see ``burstWindow``).
    @inline(__always)
    func enqueue(
        awaited: Bool = false,
        encoding encode: (inout FrameWriter, inout ByteBuffer) throws(FrameEncodingError) -> Void
    ) throws(MessagingError) -> SendReceipt {
        let (receipt, flush) = try withState { s throws(MessagingError) in
            try self.checkCanQueue(&s)
            if awaited { s.outbound.flushAwaited = true }
            do throws(FrameEncodingError) {
                try encode(&s.writer, &s.outbound.bytes)
            } catch {
                throw .encoding(error)
            }
            return self.takeReceipt(&s)
        }
        if flush { scheduleFlush() }
        return receipt
    }

    /// Queues bytes holding whole encoded frames, and leaves the flush to the caller, so that a broadcast can flush all
    /// the connections of one event loop from one task on it instead of
    /// scheduling one task (and one cross-thread wake-up) per connection.
    /// Used by ``MessagingServer``'s broadcast.
    /// - Parameter bytes: one or more complete frames.
    /// - Returns: the receipt, and whether the caller must run ``flushOutbound()`` on ``eventLoop``.
    /// - Throws: ``MessagingError`` when the bytes cannot be queued.
    package func enqueueEncodedDeferringFlush(_ bytes: ByteBuffer) throws(MessagingError) -> (receipt: SendReceipt, needsFlush: Bool) {
        try withState { s throws(MessagingError) in
            try self.checkCanQueue(&s)
            s.outbound.append(frames: bytes)
            return self.takeReceipt(&s)
        }
    }

    /// Sends an action message and waits until it is written to the socket
    /// (the reference's `send_message`).
    ///
    /// Toward a peer of this library whose link agreed to acknowledged
    /// delivery (``ConnectionConfiguration/delivery``), the action is numbered
    /// and kept until the peer acknowledges it: if the link drops first, it is
    /// sent again on the next link (the peer runs it once), and the returned
    /// receipt's ``SendReceipt/delivered()`` completes on the acknowledgement.
    /// - Parameters:
    ///   - action: the action name; the peer's handler for it is called.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    /// - Returns: the receipt: its ``SendReceipt/guarantee`` says whether it
    ///   completes on the peer's acknowledgement or (reference peer) on the write.
    /// - Throws: ``MessagingError`` when it was not written (and will not be
    ///   sent again), or ``MessagingError/resendWindowFull(count:bytes:)``.
    @discardableResult
    public func send(_ action: String, args: [JSONValue] = [], kwargs: JSONObject = [:]) async throws(MessagingError) -> SendReceipt {
        let receipt = try enqueueAction(action, args: args, kwargs: kwargs, awaited: true)
        do {
            try await receipt.written()
        } catch {
            // A numbered action whose link dropped is sent again on the next one.
            guard receipt.guarantee == .delivered, error == .connectionLost else { throw error }
        }
        return receipt
    }

    /// Waits until every frame queued so far was written to the socket: a
    /// producer that queues without waiting (many ``send(_:args:kwargs:)`` or
    /// ``request(_:args:kwargs:timeout:)`` calls started without awaiting each) calls it now and then, so that its
    /// queue stays short instead of reaching ``ConnectionConfiguration/maximumQueuedBytes``.
    /// Returns at once when nothing waits to be written.
    /// - Throws: ``MessagingError``: `.closed` when the connection is closed,
    ///   `.connectionLost` when the link dropped before the frames were written.
    public func flushed() async throws(MessagingError) {
        let (number, flush) = try withState { s throws(MessagingError) -> (UInt64?, Bool) in
            if s.lifecycle.isClosed { throw .closed }
            if s.outbound.bytes.readableBytes > 0 {
                let (receipt, flush) = takeReceipt(&s)
                return (receipt.write?.number, flush)
            }
            return (s.receipts.lastTaken, false)
        }
        if flush { scheduleFlush() }
        if let number { try await Self.waitForWrite(number, in: state) }
    }

    /// Queues an action message and returns at once; for bursts.
    /// - Parameters:
    ///   - action: the action name.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    /// - Returns: a receipt shared by the frames of the same write.
    /// - Throws: ``MessagingError`` when it cannot be queued.
    @discardableResult
    package func enqueueMessage(_ action: String, args: [JSONValue] = [], kwargs: JSONObject = [:]) throws(MessagingError) -> SendReceipt {
        try enqueueAction(action, args: args, kwargs: kwargs, awaited: false)
    }

    /// Throws when nothing may be queued now: closed, no link (and queued
    /// frames are not kept for the next, ``ConnectionConfiguration/resumeQueue``), or the queue full.
    @inline(__always)
    func checkCanQueue(_ s: inout State) throws(MessagingError) {
        if s.lifecycle.isClosed { throw .closed }
        if !s.lifecycle.isLinked && !configuration.resumeQueue { throw .notConnected }
        try s.outbound.checkRoom()
    }

    /// The receipt for what was just queued, and whether a flush must be scheduled.
    ///
    /// The receipt is the number of the write that will carry the frame: nothing
    /// is made for it (no promise, no callback) unless someone waits for it.
    @inline(__always)
    func takeReceipt(_ s: inout State) -> (SendReceipt, Bool) {
        if metrics != nil { s.framesQueued &+= 1 }
        return (SendReceipt(write: receipt(&s)), s.outbound.needsFlush())
    }

    /// Queues a reply (whole frames that `encode` appends). Replies are not held
    /// to ``ConnectionConfiguration/maximumQueuedBytes``, so that a busy sender
    /// never makes this side drop an answer; they are counted in the reply
    /// backlog instead, and when it grows past
    /// ``ConnectionConfiguration/maximumReplyBacklog`` the link is no longer
    /// read (``flushOutbound()``), so no more requests, and no more replies, come in.
    func enqueueReply(
        encoding encode: (inout FrameWriter, inout ByteBuffer) throws(FrameEncodingError) -> Void
    ) throws(MessagingError) {
        let (flush, pause) = try withState { s throws(MessagingError) -> (Bool, (gate: ReadGate, writes: Int)?) in
            if s.lifecycle.isClosed { throw .closed }
            if !s.lifecycle.isLinked && !configuration.resumeQueue { throw .notConnected }
            let before = s.outbound.bytes.writerIndex
            do throws(FrameEncodingError) {
                try encode(&s.writer, &s.outbound.bytes)
            } catch {
                throw .encoding(error)
            }
            s.outbound.repliesQueued(s.outbound.bytes.writerIndex - before)
            if metrics != nil { s.framesQueued &+= 1 }
            return (s.outbound.needsFlush(), self.pauseForReplies(&s))
        }
        if flush { scheduleFlush() }
        if let pause { pauseReading(pause) }
    }

    /// Stops reading (in the gate, together with the decision, under the state
    /// lock) when the queue says replies pile up (``OutboundQueue/pauseForReplies()``);
    /// then returns what ``pauseReading(_:)`` needs.
    func pauseForReplies(_ s: inout State) -> (gate: ReadGate, writes: Int)? {
        guard let gate = s.readGate, s.outbound.pauseForReplies() else { return nil }
        gate.hold(.replyBacklog, true)
        return (gate, s.outbound.writesCompleted)
    }

    /// Applies a pause of ``pauseForReplies(_:)`` to the channel, and watches the link for a stall.
    func pauseReading(_ pause: (gate: ReadGate, writes: Int)) {
        logger.debug("replies wait for the peer (more than \(LogFormat.bytes(configuration.maximumReplyBacklog))): reading paused", metadata: linkMetadata)
        pause.gate.apply()
        watchForStall(pause.gate, writesAtPause: pause.writes)
    }
}
