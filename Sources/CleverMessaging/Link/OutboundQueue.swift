import NIOCore

/// The bytes queued for one peer and the decisions about writing them, as a
/// pure state machine: when to flush, when a burst waits, when the queue is
/// full, when reading must stop because replies pile up, and when it may start
/// again. The connection performs the writes and applies the pauses.
///
/// Frames are encoded straight into ``bytes``; a flush takes them all for one
/// write (``takeForWrite(now:)``), and the write's completion is reported with
/// ``writeCompleted(bytes:replies:)``. Nothing is taken while the link is not
/// open (``isHeld``: no link, a handshake in progress) or while a file body is
/// streamed on the link (``streamActive``): frames wait behind it in order.
package struct OutboundQueue: Sendable {
    /// The most bytes queued or in flight before sends fail (``ConnectionConfiguration/maximumQueuedBytes``).
    package let maximumQueuedBytes: Int
    /// The most reply bytes waiting for the peer before reading stops (``ConnectionConfiguration/maximumReplyBacklog``).
    package let maximumReplyBacklog: Int
    /// How long after a flush a flush asked from another thread waits (see ``flushDelay(now:)``).
    package let burstWindow: TimeAmount

    /// Encoded frames waiting for the next flush.
    package var bytes = ByteBuffer()
    /// Bytes handed to the link and not written yet.
    package private(set) var inFlightBytes = 0
    /// Bytes of replies in ``bytes``.
    package private(set) var replyBytesQueued = 0
    /// Bytes of replies handed to the current link and not yet written.
    package private(set) var replyBytesInFlight = 0
    /// Reading the current link is stopped because its replies pile up.
    package private(set) var pausedForReplies = false
    /// How many times reading stopped for replies (for tests and diagnostics).
    package private(set) var replyPauses = 0
    /// Writes to the current link that completed: its progress, for the stall check.
    package private(set) var writesCompleted = 0
    /// A flush is on its way to the event loop.
    package private(set) var flushScheduled = false
    /// A caller waits for what is queued: the next flush is not held back for a burst.
    package var flushAwaited = false
    /// When the last flush wrote to the link.
    package private(set) var lastFlushAt = NIODeadline.uptimeNanoseconds(0)
    /// When the flush before it did.
    package private(set) var previousFlushAt = NIODeadline.uptimeNanoseconds(0)
    /// Flushes closer together than this keep their storage for the next one (``recycle(_:)``).
    package static let recycleWindow = TimeAmount.milliseconds(5)
    /// A file body is being written to the link: other frames wait.
    package private(set) var streamActive = false
    /// Frames may be queued but not written: no link is open (none yet, or a handshake runs).
    package private(set) var isHeld = true

    /// An empty queue, held until a link opens.
    package init(maximumQueuedBytes: Int, maximumReplyBacklog: Int, burstWindow: TimeAmount) {
        self.maximumQueuedBytes = maximumQueuedBytes
        self.maximumReplyBacklog = maximumReplyBacklog
        self.burstWindow = burstWindow
    }

    /// Bytes queued or in flight.
    package var queuedBytes: Int { bytes.readableBytes + inFlightBytes }

    /// Throws when the queue holds more than ``maximumQueuedBytes``.
    @inline(__always)
    package func checkRoom() throws(MessagingError) {
        let queued = queuedBytes
        if queued > maximumQueuedBytes { throw .queueFull(queuedBytes: queued, limit: maximumQueuedBytes) }
    }

    /// Whether what was just queued needs a flush scheduled (and notes that one will be).
    @inline(__always)
    package mutating func needsFlush() -> Bool {
        guard !isHeld, !flushScheduled else { return false }
        flushScheduled = true
        return true
    }

    /// Appends whole encoded frames to ``bytes``. A queue without storage (every
    /// link of a broadcast but the busiest) shares the frames' storage instead
    /// of copying them into storage of its own: the one frame of a broadcast
    /// goes to thousands of links without an allocation or a copy per link.
    @inline(__always)
    package mutating func append(frames: ByteBuffer) {
        if bytes.capacity == 0 {
            bytes = frames
        } else {
            bytes.writeImmutableBuffer(frames)
        }
    }

    /// `count` bytes of replies were just appended to ``bytes``.
    package mutating func repliesQueued(_ count: Int) {
        replyBytesQueued += count
    }

    /// Whether reading must stop now for replies: they are more than
    /// ``maximumReplyBacklog`` and reading does not stop for them yet (then it is noted as stopped).
    package mutating func pauseForReplies() -> Bool {
        guard !pausedForReplies, replyBytesQueued + replyBytesInFlight > maximumReplyBacklog else { return false }
        pausedForReplies = true
        replyPauses += 1
        return true
    }

    /// How long a flush asked from another thread at `now` should wait: `nil`
    /// at once, unless the last flush was less than ``burstWindow`` ago and
    /// nobody waits for the write (a burst: the rest of the window).
    package func flushDelay(now: NIODeadline) -> TimeAmount? {
        if flushAwaited { return nil }
        let since = now - lastFlushAt
        return since < burstWindow ? burstWindow - since : nil
    }

    /// A flush ran: takes everything queued for one write, unless nothing is
    /// queued, the queue is held or a stream has the link.
    /// - Returns: the bytes, and the reply bytes among them (for ``writeCompleted(bytes:replies:)``).
    package mutating func takeForWrite(now: NIODeadline) -> (bytes: ByteBuffer, replies: Int)? {
        flushScheduled = false
        guard !isHeld, bytes.readableBytes > 0, !streamActive else { return nil }
        previousFlushAt = lastFlushAt
        lastFlushAt = now
        flushAwaited = false
        var taken = ByteBuffer()
        swap(&taken, &bytes)
        inFlightBytes += taken.readableBytes
        let replies = replyBytesQueued
        replyBytesQueued = 0
        replyBytesInFlight += replies
        return (taken, replies)
    }

    /// A write of ``takeForWrite(now:)`` ended (written or failed).
    /// - Parameters:
    ///   - count: its bytes.
    ///   - replies: its reply bytes.
    ///   - sameLink: whether it was written to the link still current.
    /// - Returns: whether reading may start again (it was stopped for replies, and half of them are written).
    package mutating func writeCompleted(bytes count: Int, replies: Int, sameLink: Bool) -> Bool {
        inFlightBytes -= count
        guard sameLink else { return false }
        writesCompleted &+= 1
        replyBytesInFlight -= replies
        guard pausedForReplies, replyBytesQueued + replyBytesInFlight <= maximumReplyBacklog / 2 else { return false }
        pausedForReplies = false
        return true
    }

    /// A slice of a long write was written (progress for the stall check).
    package mutating func sliceWritten() {
        writesCompleted &+= 1
    }

    /// Takes the link for a file body: what is queued goes first (returned),
    /// and what is queued meanwhile waits for ``endStream()``.
    /// - Returns: `nil` when another stream has the link.
    package mutating func beginStream() -> ByteBuffer? {
        guard !streamActive else { return nil }
        streamActive = true
        var taken = ByteBuffer()
        swap(&taken, &bytes)
        // Counted as written: reading is not paused for replies ahead of a stream.
        replyBytesQueued = 0
        return taken
    }

    /// The stream gave the link back.
    /// - Returns: whether a flush must be scheduled for what waited.
    package mutating func endStream() -> Bool {
        streamActive = false
        return bytes.readableBytes > 0 && needsFlush()
    }

    /// A link opened (its handshake passed): what is queued may go.
    /// - Returns: whether a flush must be scheduled.
    package mutating func open() -> Bool {
        isHeld = false
        replyBytesInFlight = 0
        pausedForReplies = false
        return bytes.readableBytes > 0 && needsFlush()
    }

    /// The link went down (or a new one is not open yet).
    /// - Parameter keep: keep what is queued for the next link.
    /// - Returns: whether queued frames were dropped.
    @discardableResult
    package mutating func hold(keep: Bool) -> Bool {
        isHeld = true
        replyBytesInFlight = 0
        pausedForReplies = false
        flushScheduled = false
        guard !keep else { return false }
        return dropQueued()
    }

    /// Drops what is queued. - Returns: whether anything was.
    @discardableResult
    package mutating func dropQueued() -> Bool {
        let had = bytes.readableBytes > 0
        bytes.clear()
        replyBytesQueued = 0
        return had
    }

    /// Gives written storage back to ``bytes`` when nothing was queued since
    /// and the link is busy (its last two flushes were less than
    /// ``recycleWindow`` apart), so that the next frames need no allocation. A
    /// link that writes now and then (a fleet of idle drones) lets its storage go.
    package mutating func recycle(_ storage: inout ByteBuffer) {
        guard bytes.capacity == 0, recyclesStorage else { return }
        swap(&bytes, &storage)
    }

    /// Whether ``recycle(_:)`` would keep written storage now: the last two
    /// flushes were less than ``recycleWindow`` apart. Asked with the flush
    /// (under the same turn of the lock), so that a link that writes now and
    /// then (every link of a broadcast) skips the recycling, and its lock, altogether.
    package var recyclesStorage: Bool { lastFlushAt - previousFlushAt < Self.recycleWindow }
}
