import NIOCore

/// The receiver's side of acknowledged delivery, as a pure state machine:
/// which sequenced actions to run and which are duplicates (its high-water
/// mark), and when to acknowledge.
///
/// Actions arrive in order on a link and, after a reconnect, the sender
/// resends what it has not seen acknowledged: an action numbered at or below
/// the high-water mark ran already and is dropped. Acknowledgements are
/// cumulative (the high-water mark). One is owed after every sequenced action
/// (duplicates included: the sender missed the last one); it rides on the next
/// sequenced action this side sends (``takePiggyback()``), or else goes in one
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

    /// How long an owed acknowledgement may wait for a frame to ride on.
    package let ackInterval: TimeAmount
    /// The highest sequence number received (0: none).
    package private(set) var highWater: UInt64
    /// An acknowledgement of ``highWater`` is owed to the peer.
    package private(set) var ackOwed = false
    /// When the acknowledgement timer fires, if armed.
    package private(set) var ackDue: NIODeadline?

    /// A receiver.
    /// - Parameters:
    ///   - ackInterval: how long an acknowledgement may wait.
    ///   - highWater: what was received already (a session reattached), 0 for a new one.
    package init(ackInterval: TimeAmount, highWater: UInt64 = 0) {
        self.ackInterval = ackInterval
        self.highWater = highWater
    }

    /// A sequenced action arrived.
    /// - Parameters:
    ///   - sequence: its number.
    ///   - now: the present.
    /// - Returns: whether to run it, and a deadline when the acknowledgement timer must be armed.
    package mutating func received(sequence: UInt64, now: NIODeadline) -> (verdict: Verdict, armTimer: NIODeadline?) {
        let verdict: Verdict
        if sequence > highWater {
            // A gap (the sender's earlier actions were settled with a session this side forgot) is accepted.
            highWater = sequence
            verdict = .run
        } else {
            verdict = .duplicate
        }
        ackOwed = true
        guard ackDue == nil else { return (verdict, nil) }
        let due = now + ackInterval
        ackDue = due
        return (verdict, due)
    }

    /// A sequenced action is being sent to the peer: the acknowledgement to put on it, if one is owed.
    /// - Returns: the cumulative acknowledgement, or `nil`.
    package mutating func takePiggyback() -> UInt64? {
        guard ackOwed else { return nil }
        ackOwed = false
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
    }
}
