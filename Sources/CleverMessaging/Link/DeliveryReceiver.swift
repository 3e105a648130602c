import NIOCore

/// The receiver's side of acknowledged delivery, as a pure state machine:
/// which sequenced actions to run and which are duplicates (its high-water
/// mark), and when to acknowledge.
///
/// Actions arrive in order on a link and, after a reconnect, the sender
/// resends what it has not seen acknowledged: an action numbered at or below
/// the high-water mark ran already and is dropped. Acknowledgements are
/// cumulative (the high-water mark). One is owed after every sequenced action
/// (duplicates included: the sender missed the last one). Nothing is decided
/// per action beyond the verdict: at the end of each read (``readEnded(now:bytesRead:)``)
/// an acknowledgement goes at once, in one small frame, when a read brought
/// ``ackEvery`` actions or ``ackEveryBytes`` bytes since the last one (a fast
/// sender's window never waits for the timer); otherwise it rides on the next
/// sequenced action this side sends (``takePiggyback()``), or goes in one
/// small frame when the acknowledgement timer fires, at most one per
/// ``ackInterval``.
package struct DeliveryReceiver: Sendable, Hashable {
    /// What to do with a sequenced action.
    package enum Verdict: Sendable, Hashable {
        /// Run it: it is new.
        case run
        /// Drop it: it ran already.
        case duplicate
    }

    /// What the end of a read asks for.
    package enum ReadEnd: Sendable, Hashable {
        /// Nothing: no acknowledgement owed, or its timer is armed already.
        case none
        /// Send this cumulative acknowledgement now, in a frame of its own.
        case acknowledge(UInt64)
        /// Arm the acknowledgement timer for this deadline.
        case armTimer(NIODeadline)
    }

    /// How long an owed acknowledgement may wait for a frame to ride on.
    package let ackInterval: TimeAmount
    /// After how many actions owed an acknowledgement goes at the end of the read.
    package let ackEvery: Int
    /// After how many bytes read while an acknowledgement is owed it goes at the end of the read.
    package let ackEveryBytes: Int
    /// The highest sequence number received (0: none).
    package private(set) var highWater: UInt64
    /// An acknowledgement of ``highWater`` is owed to the peer.
    package private(set) var ackOwed = false
    /// Actions received since the last acknowledgement.
    package private(set) var owedCount = 0
    /// Bytes read since the last acknowledgement while one was owed.
    package private(set) var owedBytes = 0
    /// When the acknowledgement timer fires, if armed.
    package private(set) var ackDue: NIODeadline?

    /// A receiver.
    /// - Parameters:
    ///   - ackInterval: how long an acknowledgement may wait.
    ///   - ackEvery: after how many actions one goes at the end of a read (at least 1).
    ///   - ackEveryBytes: after how many bytes read one goes at the end of a read (at least 1).
    ///   - highWater: what was received already (a session reattached), 0 for a new one.
    package init(ackInterval: TimeAmount, ackEvery: Int = 1024, ackEveryBytes: Int = 512 * 1024, highWater: UInt64 = 0) {
        self.ackInterval = ackInterval
        self.ackEvery = max(1, ackEvery)
        self.ackEveryBytes = max(1, ackEveryBytes)
        self.highWater = highWater
    }

    /// A sequenced action arrived.
    /// - Parameter sequence: its number.
    /// - Returns: whether to run it.
    @inline(__always)
    package mutating func received(sequence: UInt64) -> Verdict {
        ackOwed = true
        owedCount &+= 1
        if sequence > highWater {
            // A gap (the sender's earlier actions were settled with a session this side forgot) is accepted.
            highWater = sequence
            return .run
        }
        return .duplicate
    }

    /// A read from the link ended (every action it brought was ``received(sequence:)``).
    /// - Parameters:
    ///   - now: the present.
    ///   - bytesRead: the bytes the read brought.
    /// - Returns: an acknowledgement to send now, a timer to arm, or nothing.
    package mutating func readEnded(now: NIODeadline, bytesRead: Int) -> ReadEnd {
        guard ackOwed else { return .none }
        owedBytes &+= bytesRead
        if owedCount >= ackEvery || owedBytes >= ackEveryBytes, let ack = takePiggyback() {
            return .acknowledge(ack)
        }
        guard ackDue == nil else { return .none }
        let due = now + ackInterval
        ackDue = due
        return .armTimer(due)
    }

    /// A sequenced action (or an acknowledgement frame) is being sent to the
    /// peer: the acknowledgement to put on it, if one is owed.
    /// - Returns: the cumulative acknowledgement, or `nil`.
    package mutating func takePiggyback() -> UInt64? {
        guard ackOwed else { return nil }
        ackOwed = false
        owedCount = 0
        owedBytes = 0
        return highWater
    }

    /// The acknowledgement timer fired.
    /// - Returns: the acknowledgement to send in a frame of its own, or `nil` when none is owed any more.
    package mutating func timerFired() -> UInt64? {
        ackDue = nil
        return takePiggyback()
    }

    /// The link went down: the timer is gone with it; what is owed goes with the next link's handshake.
    package mutating func linkDown() {
        ackDue = nil
        ackOwed = false
        owedCount = 0
        owedBytes = 0
    }
}
