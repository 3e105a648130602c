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
/// The frames are kept end to end in one buffer, oldest first, with their
/// lengths beside it: keeping an action costs no allocation of its own, and
/// what a reattached link must send again is one contiguous slice. The
/// receipts learn of acknowledgements through the session's ledger, so the
/// window keeps nothing else per action.
package struct ResendWindow: Sendable {
    /// The most unacknowledged actions.
    package let maximumCount: Int
    /// The most bytes of unacknowledged actions.
    package let maximumBytes: Int
    /// The number the next action gets (the first is 1).
    package private(set) var nextSequence: UInt64 = 1
    /// The highest number the peer acknowledged (0: none).
    package private(set) var acknowledged: UInt64 = 0
    /// The unacknowledged frames, end to end, oldest first (its readable bytes).
    private var frames = ByteBuffer()
    /// The length of each unacknowledged frame, oldest first.
    private var lengths: Deque<Int> = []

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
    package var count: Int { lengths.count }

    /// Their bytes.
    package var bytes: Int { frames.readableBytes }

    /// Checks that one more action of `frameBytes` bytes fits.
    /// - Parameter frameBytes: its size (0: only the count is checked).
    /// - Throws: ``MessagingError/resendWindowFull(count:bytes:)``.
    package func checkRoom(for frameBytes: Int = 0) throws(MessagingError) {
        if lengths.count >= maximumCount || (bytes + frameBytes > maximumBytes && !lengths.isEmpty) {
            throw .resendWindowFull(count: lengths.count, bytes: bytes)
        }
    }

    /// Keeps the next action, numbered ``nextSequence``, whose frame `encode`
    /// writes (with that number) at the end of the given buffer.
    /// - Parameters:
    ///   - context: what `encode` writes with (a frame writer), passed through.
    ///   - encode: writes the whole frame, and nothing else, into the buffer.
    /// - Returns: the action's number and its frame (a slice of the window's
    ///   buffer, to copy into the link's queue at once).
    /// - Throws: what `encode` throws (nothing is kept), or
    ///   ``MessagingError/resendWindowFull(count:bytes:)`` when it does not fit.
    package mutating func append<Context, Failure: Error>(
        with context: inout Context,
        encoding encode: (inout Context, inout ByteBuffer) throws(Failure) -> Void
    ) throws(ResendWindowAppendError<Failure>) -> (sequence: UInt64, frame: ByteBuffer) {
        let (sequence, start, length) = try keep(with: &context, encoding: encode)
        // A slice of the window's buffer: copy it out before the next append (or the buffer is copied).
        return (sequence, frames.getSlice(at: start, length: length)!)
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
        let offset = start - frames.readerIndex
        frames.withUnsafeReadableBytes { bytes in
            _ = out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]))
        }
        return sequence
    }

    /// Encodes and keeps the next action (see ``append(with:encoding:)``).
    /// - Returns: its number, and where its frame starts in the window's buffer and its length.
    @inline(__always)
    private mutating func keep<Context, Failure: Error>(
        with context: inout Context,
        encoding encode: (inout Context, inout ByteBuffer) throws(Failure) -> Void
    ) throws(ResendWindowAppendError<Failure>) -> (sequence: UInt64, start: Int, length: Int) {
        do throws(MessagingError) { try checkRoom() } catch { throw .full(error) }
        let start = frames.writerIndex
        do {
            try encode(&context, &frames)
        } catch {
            frames.moveWriterIndex(to: start)
            throw .encoding(error)
        }
        let length = frames.writerIndex - start
        if lengths.count > 0, bytes > maximumBytes {
            frames.moveWriterIndex(to: start)
            throw .full(.resendWindowFull(count: lengths.count, bytes: bytes))
        }
        let sequence = nextSequence
        nextSequence += 1
        lengths.append(length)
        return (sequence, start, length)
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
        var released = 0
        for _ in 0..<min(settled, lengths.count) { released += lengths.removeFirst() }
        frames.moveReaderIndex(forwardBy: released)
        compact()
        return settled
    }

    /// A link was (re)attached and the peer received through `peerReceived`.
    /// - Parameter peerReceived: the peer's high-water mark.
    /// - Returns: how many actions that settled, and the frames to send again, in order.
    package mutating func reattach(peerReceived: UInt64) -> (settled: Int, resend: ByteBuffer) {
        let settled = acknowledge(through: peerReceived)
        return (settled, frames)
    }

    /// Forgets every action (the session ends).
    /// - Returns: how many were not acknowledged.
    package mutating func removeAll() -> Int {
        defer {
            lengths.removeAll()
            frames.clear()
        }
        return lengths.count
    }

    /// Gives back the space of acknowledged frames: all of it when none wait,
    /// else once it is more than what still waits (the copy is then cheap).
    private mutating func compact() {
        if lengths.isEmpty {
            frames.clear()
        } else if frames.readerIndex > 64 * 1024, frames.readerIndex > frames.readableBytes {
            frames.discardReadBytes()
        }
    }
}

/// Why ``ResendWindow/append(with:encoding:)`` kept nothing.
package enum ResendWindowAppendError<Encoding: Error>: Error {
    /// The window is full.
    case full(MessagingError)
    /// The frame could not be encoded.
    case encoding(Encoding)
}
