import DequeModule
import NIOCore

/// The sender's side of acknowledged delivery, as a pure state machine: the
/// sequence numbers of outbound actions, the encoded frames the peer has not
/// acknowledged yet, and what to send again when a link is (re)attached.
///
/// The window is bounded by a count of frames and by their bytes: an action
/// that would not fit is refused with ``MessagingError/resendWindowFull(count:bytes:)``
/// (nothing is dropped in silence). Acknowledgements are cumulative: an
/// acknowledgement of `n` settles every action numbered `n` or less.
///
/// The frames are kept end to end in chunks of storage, oldest first, with
/// where each ends beside them: keeping an action costs no allocation of its
/// own, and a frame never spans two chunks. An acknowledgement looks up where
/// the last frame it settles ends, moves the oldest chunk's reader there and
/// drops the chunks it empties whole (one is kept for reuse): it costs
/// O(chunks dropped), never a copy of what still waits. The receipts learn of acknowledgements
/// through the session's ledger, so the window keeps nothing else per action.
package struct ResendWindow: Sendable {
    /// The most unacknowledged actions.
    package let maximumCount: Int
    /// The most bytes of unacknowledged actions.
    package let maximumBytes: Int
    /// The number the next action gets (the first is 1).
    package private(set) var nextSequence: UInt64 = 1
    /// The highest number the peer acknowledged (0: none).
    package private(set) var acknowledged: UInt64 = 0
    /// Full chunks, oldest first: each one's readable bytes are unacknowledged frames, end to end.
    private var sealed: Deque<ByteBuffer> = []
    /// The chunk frames are written to, after those of `sealed`.
    private var tail = ByteBuffer()
    /// An emptied chunk kept to be the next `tail`, so that a steady flow allocates nothing.
    private var spare: ByteBuffer?
    /// Where each unacknowledged frame ends, oldest first, counted in bytes
    /// from the first byte this window ever kept.
    private var ends: Deque<Int> = []
    /// Where the oldest unacknowledged frame starts, counted the same way.
    private var released = 0
    /// The bytes of the unacknowledged frames.
    private var byteCount = 0

    /// The capacity of a chunk: the tail grows (as any buffer) up to it, and
    /// is then sealed once it has less than ``reserveRoom`` left.
    static let chunkCapacity = 64 * 1024
    /// The room a sealed-size tail must have left to take another frame (a
    /// larger frame grows the tail once, the copy bounded by the chunk's size).
    static let reserveRoom = 4 * 1024

    /// An empty window.
    /// - Parameters:
    ///   - maximumCount: the most unacknowledged actions.
    ///   - maximumBytes: the most bytes of unacknowledged actions (one larger
    ///     action still goes when the window is empty).
    package init(maximumCount: Int, maximumBytes: Int) {
        self.maximumCount = maximumCount
        self.maximumBytes = maximumBytes
    }

    /// How many actions wait for their acknowledgement.
    package var count: Int { ends.count }

    /// Their bytes.
    package var bytes: Int { byteCount }

    /// How many chunks of storage hold them (for tests: acknowledged chunks are dropped whole).
    package var chunks: Int { sealed.count + 1 }

    /// Checks that one more action of `frameBytes` bytes fits.
    /// - Parameter frameBytes: its size (0: only the count is checked).
    /// - Throws: ``MessagingError/resendWindowFull(count:bytes:)``.
    package func checkRoom(for frameBytes: Int = 0) throws(MessagingError) {
        if ends.count >= maximumCount || (bytes + frameBytes > maximumBytes && !ends.isEmpty) {
            throw .resendWindowFull(count: ends.count, bytes: bytes)
        }
    }

    /// Keeps the next action, numbered ``nextSequence``, whose frame `encode`
    /// writes (with that number) at the end of the given buffer.
    /// - Parameters:
    ///   - context: what `encode` writes with (a frame writer), passed through.
    ///   - encode: writes the whole frame, and nothing else, into the buffer.
    /// - Returns: the action's number and its frame (a slice of the window's
    ///   storage, to copy into the link's queue at once).
    /// - Throws: what `encode` throws (nothing is kept), or
    ///   ``MessagingError/resendWindowFull(count:bytes:)`` when it does not fit.
    package mutating func append<Context, Failure: Error>(
        with context: inout Context,
        encoding encode: (inout Context, inout ByteBuffer) throws(Failure) -> Void
    ) throws(ResendWindowAppendError<Failure>) -> (sequence: UInt64, frame: ByteBuffer) {
        let (sequence, start, length) = try keep(with: &context, encoding: encode)
        // A slice of the window's storage: copy it out before the next append (or the storage is copied).
        return (sequence, tail.getSlice(at: start, length: length)!)
    }

    /// ``append(with:encoding:)``, copying the frame to the end of `out`
    /// straight from the window's bytes: no slice of the window's storage is
    /// made, so its reference count (which the thread that settles
    /// acknowledgements touches too) is left alone.
    /// - Parameters:
    ///   - context: what `encode` writes with (a frame writer), passed through.
    ///   - out: where the frame is copied (the link's queue).
    ///   - encode: writes the whole frame, and nothing else, into the buffer.
    /// - Returns: the action's number.
    /// - Throws: as ``append(with:encoding:)``.
    package mutating func append<Context, Failure: Error>(
        with context: inout Context,
        copyingInto out: inout ByteBuffer,
        encoding encode: (inout Context, inout ByteBuffer) throws(Failure) -> Void
    ) throws(ResendWindowAppendError<Failure>) -> UInt64 {
        let (sequence, start, length) = try keep(with: &context, encoding: encode)
        let offset = start - tail.readerIndex
        tail.withUnsafeReadableBytes { bytes in
            _ = out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]))
        }
        return sequence
    }

    /// Encodes and keeps the next action (see ``append(with:encoding:)``).
    /// - Returns: its number, and where its frame starts in ``tail`` and its length.
    @inline(__always)
    private mutating func keep<Context, Failure: Error>(
        with context: inout Context,
        encoding encode: (inout Context, inout ByteBuffer) throws(Failure) -> Void
    ) throws(ResendWindowAppendError<Failure>) -> (sequence: UInt64, start: Int, length: Int) {
        do throws(MessagingError) { try checkRoom() } catch { throw .full(error) }
        if tail.capacity >= Self.chunkCapacity, tail.writableBytes < Self.reserveRoom { sealTail() }
        let start = tail.writerIndex
        do {
            try encode(&context, &tail)
        } catch {
            tail.moveWriterIndex(to: start)
            throw .encoding(error)
        }
        let length = tail.writerIndex - start
        if ends.count > 0, byteCount + length > maximumBytes {
            tail.moveWriterIndex(to: start)
            throw .full(.resendWindowFull(count: ends.count, bytes: byteCount))
        }
        let sequence = nextSequence
        nextSequence += 1
        byteCount += length
        ends.append(released + byteCount)
        return (sequence, start, length)
    }

    /// Starts a new tail (the spare chunk, else a new one) after the full one.
    private mutating func sealTail() {
        guard tail.readableBytes > 0 else {
            // Everything in it was acknowledged: written again from its start.
            tail.clear()
            return
        }
        sealed.append(tail)
        tail = spare.take() ?? ByteBufferAllocator().buffer(capacity: Self.chunkCapacity)
    }

    /// The peer acknowledged every action through `sequence`.
    /// - Parameter sequence: the acknowledged number (one beyond what was sent counts as what was sent).
    /// - Returns: how many actions this settled.
    package mutating func acknowledge(through sequence: UInt64) -> Int {
        // An acknowledgement beyond what was sent is bounded by it (a peer's error, not a reason to forget the future).
        let sequence = min(sequence, nextSequence - 1)
        guard sequence > acknowledged else { return 0 }
        let settled = Int(sequence - acknowledged)
        acknowledged = sequence
        let frames = min(settled, ends.count)
        guard frames > 0 else { return settled }
        let end = ends[frames - 1]
        ends.removeFirst(frames)
        let count = end - released
        released = end
        byteCount -= count
        release(count)
        return settled
    }

    /// Drops the oldest `count` bytes: whole chunks while they are covered, then
    /// the reader of the chunk the last settled frame ends in moves past it.
    private mutating func release(_ count: Int) {
        var count = count
        while count > 0, let first = sealed.first {
            let readable = first.readableBytes
            guard count >= readable else {
                sealed[sealed.startIndex].moveReaderIndex(forwardBy: count)
                return
            }
            count -= readable
            retire(sealed.removeFirst())
        }
        if count > 0 { tail.moveReaderIndex(forwardBy: count) }
        if tail.readableBytes == 0, tail.writerIndex > 0 {
            // Nothing waits in the tail: it is written again from its start.
            tail.clear()
        }
    }

    /// Keeps an emptied chunk as the spare, unless there is one (or it grew
    /// far past a chunk's size for one large frame).
    private mutating func retire(_ chunk: ByteBuffer) {
        guard spare == nil, chunk.capacity <= 4 * Self.chunkCapacity else { return }
        var chunk = chunk
        chunk.clear()
        spare = chunk
    }

    /// A link was (re)attached and the peer received through `peerReceived`.
    /// - Parameter peerReceived: the peer's high-water mark.
    /// - Returns: how many actions that settled, and the frames to send again, in order.
    package mutating func reattach(peerReceived: UInt64) -> (settled: Int, resend: ByteBuffer) {
        let settled = acknowledge(through: peerReceived)
        if sealed.isEmpty { return (settled, tail) }
        var resend = ByteBufferAllocator().buffer(capacity: byteCount)
        writeUnacknowledged(into: &resend)
        return (settled, resend)
    }

    /// Appends every unacknowledged frame, oldest first, to `out` (a copy: the
    /// window's storage is not shared).
    /// - Parameter out: the buffer to append to.
    package func writeUnacknowledged(into out: inout ByteBuffer) {
        out.reserveCapacity(minimumWritableBytes: byteCount)
        for chunk in sealed {
            chunk.withUnsafeReadableBytes { _ = out.writeBytes($0) }
        }
        tail.withUnsafeReadableBytes { _ = out.writeBytes($0) }
    }

    /// Forgets every action (the session ends).
    /// - Returns: how many were not acknowledged.
    package mutating func removeAll() -> Int {
        defer {
            ends.removeAll()
            sealed.removeAll()
            tail.clear()
            released += byteCount
            byteCount = 0
        }
        return ends.count
    }
}

/// Why ``ResendWindow/append(with:encoding:)`` kept nothing.
package enum ResendWindowAppendError<Encoding: Error>: Error {
    /// The window is full.
    case full(MessagingError)
    /// The frame could not be encoded.
    case encoding(Encoding)
}
