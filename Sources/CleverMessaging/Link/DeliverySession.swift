import NIOCore

/// One direction pair of acknowledged delivery with one peer: the sender's
/// ``ResendWindow`` and the receiver's ``DeliveryReceiver``, under the session
/// id the client made. A client's connection keeps it across its links; a
/// server keeps it in its ``DeliverySessions`` between the links of one client.
package struct DeliverySession: Sendable {
    /// The session id (made by the client's connection).
    package let id: String
    /// The actions sent and not acknowledged.
    package var window: ResendWindow
    /// How far the peer acknowledged, for the receipts of the session's actions.
    let ledger = DeliveryLedger()
    /// What was received, and the acknowledgement owed.
    package var receiver: DeliveryReceiver
    /// Actions numbered (sent with acknowledged delivery).
    package var sent = 0
    /// Actions the peer acknowledged.
    package var delivered = 0
    /// Frames sent again on a later link.
    package var resent = 0
    /// Actions received again and dropped (they ran already).
    package var duplicatesDropped = 0

    /// A new session.
    /// - Parameters:
    ///   - id: the session id.
    ///   - configuration: the window's bounds and the acknowledgement interval.
    package init(id: String, configuration: DeliveryConfiguration) {
        self.id = id
        self.window = ResendWindow(
            maximumCount: configuration.maximumUnacknowledged,
            maximumBytes: configuration.maximumUnacknowledgedBytes
        )
        // A sixteenth of this side's window (the peer's is of the same default size) owed is acknowledged at the end of the read.
        self.receiver = DeliveryReceiver(
            ackInterval: TimeAmount(configuration.ackInterval),
            ackEvery: configuration.maximumUnacknowledged / 16,
            ackEveryBytes: configuration.maximumUnacknowledgedBytes / 16
        )
    }

    /// A random session id: 32 hexadecimal digits.
    package static func makeID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(high) + hex(low)
    }

    /// The counts of this session, for diagnostics and tests.
    package var statistics: DeliveryStatistics {
        DeliveryStatistics(
            sent: sent, delivered: delivered, resent: resent, unacknowledged: window.count,
            received: Int(receiver.highWater), duplicatesDropped: duplicatesDropped
        )
    }
}

/// Counts of a connection's acknowledged delivery (``Connection/deliveryStatistics``).
public struct DeliveryStatistics: Sendable, Hashable, Codable {
    /// Actions sent with a sequence number.
    public var sent: Int
    /// Of those, the actions the peer acknowledged.
    public var delivered: Int
    /// Frames sent again after a reconnect (they were not acknowledged on the link that dropped).
    public var resent: Int
    /// Actions waiting for their acknowledgement.
    public var unacknowledged: Int
    /// The highest sequence number received from the peer.
    public var received: Int
    /// Actions from the peer that arrived again and were dropped (they ran already).
    public var duplicatesDropped: Int

    /// Counts.
    /// - Parameters:
    ///   - sent: actions sent with a sequence number.
    ///   - delivered: actions acknowledged.
    ///   - resent: frames sent again.
    ///   - unacknowledged: actions waiting.
    ///   - received: the highest sequence number received.
    ///   - duplicatesDropped: duplicates dropped.
    public init(sent: Int = 0, delivered: Int = 0, resent: Int = 0, unacknowledged: Int = 0, received: Int = 0, duplicatesDropped: Int = 0) {
        self.sent = sent
        self.delivered = delivered
        self.resent = resent
        self.unacknowledged = unacknowledged
        self.received = received
        self.duplicatesDropped = duplicatesDropped
    }
}
