/// What a completed ``SendReceipt`` proves.
public enum DeliveryGuarantee: String, Sendable, Hashable, Codable {
    /// The frame was written to the socket; nothing more is known (a reference
    /// peer acknowledges nothing, and frames other than actions are not sequenced).
    case written
    /// The peer, of this library, acknowledged the action: it received it, and
    /// runs it once, even if it arrived more than once across reconnects.
    case delivered
}

/// Tells whether frames handed to a connection reached the socket, and, for an
/// action sent to a peer of this library with acknowledged delivery
/// (``ConnectionConfiguration/delivery``), whether the peer received it.
///
/// Frames sent in a burst share one write per receipt, so awaiting a receipt
/// is cheap. A receipt that fails means the frame was not written (or, for
/// ``DeliveryGuarantee/delivered``, will never be acknowledged): the sender
/// learns it, the frame is never dropped in silence.
public struct SendReceipt: Sendable {
    /// An acknowledged action: its session's ledger, and its number there.
    struct Acknowledgement: Sendable {
        /// The session's ledger.
        let ledger: DeliveryLedger
        /// The action's sequence number.
        let sequence: UInt64
    }

    /// A numbered write of a connection: the receipt completes when it ends
    /// (see ``WriteReceipts``). Nothing is made for it until someone waits.
    struct Write: Sendable {
        /// The state of the connection that makes the write.
        let state: AdaptiveLockedBox<Connection.State>
        /// The write's number.
        let number: UInt64
    }

    /// Completes when the frame is written to the current link; `nil`: an
    /// acknowledged action queued while no link was open, written with the
    /// next link's resends (its acknowledgement then stands for the write).
    let write: Write?
    /// The action's acknowledgement (acknowledged delivery), else `nil`.
    let acknowledgement: Acknowledgement?

    /// A receipt of a write.
    init(write: Write) {
        self.write = write
        self.acknowledgement = nil
    }

    /// A receipt of an acknowledged action.
    /// - Parameters:
    ///   - write: completes on write; `nil`: on acknowledgement.
    ///   - ledger: the session's ledger.
    ///   - sequence: the action's number.
    init(write: Write?, ledger: DeliveryLedger, sequence: UInt64) {
        self.write = write
        self.acknowledgement = Acknowledgement(ledger: ledger, sequence: sequence)
    }

    /// What this receipt proves once ``delivered()`` returns: ``DeliveryGuarantee/delivered``
    /// toward a peer of this library that agreed to acknowledged delivery,
    /// ``DeliveryGuarantee/written`` otherwise (a reference peer).
    public var guarantee: DeliveryGuarantee { acknowledgement == nil ? .written : .delivered }

    /// Waits until the frame has been written to the socket.
    /// - Throws: ``MessagingError`` when it was not (the link dropped, the
    ///   connection closed). An acknowledged action whose link dropped before
    ///   the write is still sent again on the next link: see ``delivered()``.
    public func written() async throws(MessagingError) {
        if let write {
            try await Connection.waitForWrite(write.number, in: write.state)
        } else if let acknowledgement {
            try await acknowledgement.ledger.waitForAcknowledgement(of: acknowledgement.sequence)
        }
    }

    /// Waits until the send is as complete as the peer can tell: acknowledged
    /// by a peer of this library (across reconnects, if the link drops), or
    /// written toward a reference peer.
    /// - Returns: ``guarantee``: what the completion proves.
    /// - Throws: ``MessagingError`` when it will not complete (the connection
    ///   closed, or its session was given up before the peer acknowledged).
    @discardableResult
    public func delivered() async throws(MessagingError) -> DeliveryGuarantee {
        if let acknowledgement {
            try await acknowledgement.ledger.waitForAcknowledgement(of: acknowledgement.sequence)
        } else if let write {
            try await Connection.waitForWrite(write.number, in: write.state)
        }
        return guarantee
    }
}
