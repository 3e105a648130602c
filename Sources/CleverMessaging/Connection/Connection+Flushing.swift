import Logging
import NIOCore

extension Connection {
    // MARK: - Flushing

    /// Makes what is queued go out soon: at the end of the read batch in
    /// progress, on the next turn of the event loop, or (asked from another
    /// thread) after the burst window.
    func scheduleFlush() {
        if eventLoop.inEventLoop {
            // Replies made while a read batch is handled go out together at its end
            // (`readBatchEnded()`), without an extra trip through the event loop.
            if onLoop.value.readBatchActive { return }
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
    /// waits for it (``send(_:args:kwargs:)``, ``request(_:args:kwargs:timeout:)``):
    /// only frames queued without waiting (``enqueueMessage(_:args:kwargs:)``,
    /// ``getResponse(_:requestArgs:requestKwargs:callbackArgs:callbackKwargs:timeout:onError:callback:)``, ...) are held back.
    static let burstWindow = TimeAmount.microseconds(20)

    /// A flush asked from another thread: done now, unless the last flush
    /// was less than ``burstWindow`` ago (a burst), when it waits for the
    /// rest of the window and takes what was queued meanwhile. Runs on the event loop.
    func flushAskedFromElsewhere() {
        let now = self.eventLoop.now
        guard let wait = state.withLockedValue({ $0.outbound.flushDelay(now: now) }) else {
            flushOutbound()
            return
        }
        eventLoop.scheduleTask(in: wait) { self.flushOutbound() }
    }

    /// A read batch is being handled on the event loop (a flag the loop
    /// owns: no lock is taken for it).
    func readBatchStarted() {
        onLoop.value.readBatchActive = true
    }

    /// The read batch ended: notes the peer's bytes for liveness and writes
    /// what its handlers queued, under one turn of the lock. Runs on the event loop.
    /// - Parameters:
    ///   - now: when the read ended.
    ///   - bytesRead: the bytes it brought.
    func readBatchEnded(now: NIODeadline, bytesRead: Int) {
        onLoop.value.readBatchActive = false
        flushOutbound(read: (now, bytesRead), now: eventLoop.now)
    }

    /// Writes everything queued with one flush. Runs on the event loop.
    /// Also used by roles that queue for many connections of one loop and flush them together.
    package func flushOutbound() {
        flushOutbound(read: nil, now: eventLoop.now)
    }

    /// ``flushOutbound()`` at a time the caller read: a task that flushes many
    /// connections of its loop reads the clock once for all of them.
    /// - Parameter now: the loop's current time.
    package func flushOutbound(now: NIODeadline) {
        flushOutbound(read: nil, now: now)
    }

    /// ``flushOutbound()``; with `read`, also notes for liveness that the
    /// peer's bytes were read then, and settles the acknowledgement the read
    /// owes (in the same turn of the lock).
    func flushOutbound(read: (at: NIODeadline, bytes: Int)?, now: NIODeadline) {
        var counted = (frames: 0, requests: 0)
        // The bytes taken are moved here, the only reference to them outside the
        // write, so that once written their storage is reused, not copied.
        var bytes = ByteBuffer()
        var ackTimer: (LinkTimerTarget, NIODeadline)?
        // Whether the written storage may go back to the queue (decided with the
        // flush, so that a link that writes now and then takes no second turn of the lock).
        var recycles = false
        defer { if let (target, due) = ackTimer { scheduleLinkTimer(due, target: target, kind: .acknowledgement) } }
        let work = state.withLockedValue { s -> (any Channel, EventLoopPromise<Void>, number: UInt64, replies: Int, pause: (gate: ReadGate, writes: Int)?)? in
            if let read {
                s.liveness?.bytesRead(now: read.at)
                if s.delivery != nil { ackTimer = deliveryReadEnded(&s, now: read.at, bytesRead: read.bytes) }
            }
            guard let (taken, replies) = s.outbound.takeForWrite(now: now), let channel = s.channel else { return nil }
            bytes = taken
            recycles = s.outbound.recyclesStorage
            if metrics != nil {
                counted = (s.framesQueued, s.requestsQueued)
                s.framesQueued = 0
                s.requestsQueued = 0
            }
            let write = eventLoop.makePromise(of: Void.self)
            return (channel, write, s.receipts.take(), replies, self.pauseForReplies(&s))
        }
        guard let (channel, write, number, replies, pause) = work else { return }
        let count = bytes.readableBytes
        metrics?.sent(frames: counted.frames, requests: counted.requests, bytes: count)
        // A long write goes out in slices, each of which counts as progress when
        // written, so that a slow but reading peer is never taken for a stalled one.
        while bytes.readableBytes > Self.progressSlice {
            channel.write(bytes.readSlice(length: Self.progressSlice)!).whenSuccess {
                let now = self.eventLoop.now
                self.state.withLockedValue { s in
                    guard let current = s.channel, current === channel else { return }
                    s.outbound.sliceWritten()
                    s.liveness?.outboundProgress(now: now)
                }
            }
        }
        channel.writeAndFlush(bytes, promise: write)
        write.futureResult.whenComplete { result in
            let now = self.eventLoop.now
            let failure: MessagingError? = if case .failure = result { .connectionLost } else { nil }
            // The queue's accounting and the frames' receipts, in one turn of the lock.
            let (resume, waiters) = self.state.withLockedValue { s -> (ReadGate?, [(WriteWaiter, Result<Void, MessagingError>)]) in
                let sameLink = s.channel.map { $0 === channel } ?? false
                let resume = s.outbound.writeCompleted(bytes: count, replies: replies, sameLink: sameLink)
                if sameLink { s.liveness?.writeCompleted(bytes: count, stillInFlight: s.outbound.inFlightBytes, now: now) }
                let waiters = s.receipts.ended(number, failure: failure)
                guard resume else { return (nil, waiters) }
                s.readGate?.hold(.replyBacklog, false)
                return (s.readGate, waiters)
            }
            if let resume {
                self.logger.debug("replies caught up: reading resumed", metadata: self.linkMetadata)
                resume.apply()
            }
            Self.resume(waiters)
        }
        if recycles { recycle(&bytes) }
        if let pause { pauseReading(pause) }
    }

    /// Bytes per slice of a long write (see ``flushOutbound()``): a peer that
    /// reads at least this much per ``ConnectionConfiguration/stalledPeerTimeout``
    /// is not stalled.
    static let progressSlice = 256 * 1024

    /// While reading is paused for replies, drops the link if the peer reads
    /// none of them for ``ConnectionConfiguration/stalledPeerTimeout``.
    func watchForStall(_ gate: ReadGate, writesAtPause: Int) {
        guard let timeout = configuration.stalledPeerTimeout else { return }
        enum Verdict { case resumed, stalled, progressed(writes: Int) }
        eventLoop.scheduleTask(in: timeout.timeAmount) {
            let verdict = self.state.withLockedValue { s -> Verdict in
                guard s.outbound.pausedForReplies, let current = s.readGate, current === gate else { return .resumed }
                // A file body going out holds the replies back; its writes are progress too.
                if s.outbound.streamActive { return .progressed(writes: s.outbound.writesCompleted) }
                let writes = s.outbound.writesCompleted
                return writes == writesAtPause ? .stalled : .progressed(writes: writes)
            }
            switch verdict {
            case .resumed:
                return
            case .stalled:
                self.logger.warning("the peer read none of its replies for \(LogFormat.duration(timeout)); link dropped", metadata: self.linkMetadata)
                gate.channel.close(promise: nil)
            case .progressed(let writes):
                self.watchForStall(gate, writesAtPause: writes)
            }
        }
    }

    /// Gives a written buffer's storage back to the queue when nothing was
    /// queued since the flush took it, so that the next frames need no
    /// allocation. The socket usually took the bytes at once, leaving this the
    /// only reference; otherwise `clear()` allocates fresh storage, as a new
    /// buffer would. Storage grown past 64 KiB by a burst is let go. Runs on the event loop.
    private func recycle(_ bytes: inout ByteBuffer) {
        guard bytes.capacity <= 64 * 1024 else { return }
        bytes.clear()
        state.withLockedValue { s in s.outbound.recycle(&bytes) }
    }
}
