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
/// `Token` is what the caller keeps per action (the connection keeps the
/// promise of the action's receipt; tests keep numbers).
package struct ResendWindow<Token: Sendable>: Sendable {
    /// One unacknowledged action.
    package struct Entry: Sendable {
        /// Its sequence number.
        package var sequence: UInt64
        /// Its frame, as encoded (with its sequence number), ready to be written again.
        package var frame: ByteBuffer
        /// What the caller keeps for it.
        package var token: Token
    }

    /// The most unacknowledged actions.
    package let maximumCount: Int
    /// The most bytes of unacknowledged actions.
    package let maximumBytes: Int
    /// The number the next action gets (the first is 1).
    package private(set) var nextSequence: UInt64 = 1
    /// The highest number the peer acknowledged (0: none).
    package private(set) var acknowledged: UInt64 = 0
    /// The unacknowledged actions, oldest first.
    package private(set) var entries: Deque<Entry> = []
    /// Their bytes.
    package private(set) var bytes = 0

    /// An empty window.
    /// - Parameters:
    ///   - maximumCount: the most unacknowledged actions.
    ///   - maximumBytes: the most bytes of unacknowledged actions.
    package init(maximumCount: Int, maximumBytes: Int) {
        self.maximumCount = maximumCount
        self.maximumBytes = maximumBytes
    }

    /// How many actions wait for their acknowledgement.
    package var count: Int { entries.count }

    /// Throws when one more action of `frameBytes` bytes would not fit.
    /// - Parameter frameBytes: the size of the action's frame (0: check the count only).
    /// - Throws: ``MessagingError/resendWindowFull(count:bytes:)``.
    package func checkRoom(for frameBytes: Int = 0) throws(MessagingError) {
        if entries.count >= maximumCount || (bytes + frameBytes > maximumBytes && !entries.isEmpty) {
            throw .resendWindowFull(count: entries.count, bytes: bytes)
        }
    }

    /// Keeps the frame of the action numbered ``nextSequence`` until it is acknowledged.
    /// - Parameters:
    ///   - frame: the action's frame, encoded with ``nextSequence``.
    ///   - token: what to give back when it is acknowledged.
    /// - Returns: the action's sequence number.
    /// - Throws: ``MessagingError/resendWindowFull(count:bytes:)`` when it does not fit (nothing is kept).
    @discardableResult
    package mutating func append(_ frame: ByteBuffer, token: Token) throws(MessagingError) -> UInt64 {
        try checkRoom(for: frame.readableBytes)
        let sequence = nextSequence
        nextSequence += 1
        entries.append(Entry(sequence: sequence, frame: frame, token: token))
        bytes += frame.readableBytes
        return sequence
    }

    /// The peer acknowledged every action through `sequence`.
    /// - Parameter sequence: the cumulative acknowledgement.
    /// - Returns: the tokens of the actions it settled, oldest first (none for an old or repeated acknowledgement).
    package mutating func acknowledge(through sequence: UInt64) -> [Token] {
        // An acknowledgement beyond what was sent is bounded by it (a peer's error, not a reason to forget the future).
        let sequence = min(sequence, nextSequence - 1)
        guard sequence > acknowledged else { return [] }
        acknowledged = sequence
        var settled: [Token] = []
        while let first = entries.first, first.sequence <= sequence {
            bytes -= first.frame.readableBytes
            settled.append(entries.removeFirst().token)
        }
        return settled
    }

    /// A link was attached and the peer told how far it received (`peerReceived`):
    /// settles what it has, and gives the frames to send again, in order.
    /// - Parameter peerReceived: the peer's receive high-water mark.
    /// - Returns: the settled tokens, and the frames to resend (oldest first).
    package mutating func reattach(peerReceived: UInt64) -> (settled: [Token], resend: [ByteBuffer]) {
        let settled = acknowledge(through: peerReceived)
        return (settled, entries.map(\.frame))
    }

    /// Empties the window (the session ends).
    /// - Returns: the tokens of the actions that will never be acknowledged.
    package mutating func removeAll() -> [Token] {
        defer {
            entries.removeAll()
            bytes = 0
        }
        return entries.map(\.token)
    }
}
