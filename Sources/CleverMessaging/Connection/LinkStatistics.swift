/// What the kernel's TCP knows of one link, read on demand
/// (``Connection/linkStatistics()``): its smoothed round-trip time and the
/// bytes that crossed it. Reading costs one system call and nothing on the
/// path of a message.
public struct LinkStatistics: Sendable, Hashable, Codable {
    /// The smoothed round-trip time TCP measured (`tcpi_rtt`).
    public var roundTrip: Duration
    /// How much the round-trip time varies (`tcpi_rttvar`).
    public var roundTripVariation: Duration
    /// Bytes this side sent that the peer's TCP acknowledged (`tcpi_bytes_acked`).
    public var bytesSent: UInt64
    /// Bytes received from the peer (`tcpi_bytes_received`).
    public var bytesReceived: UInt64
    /// Segments sent again since the link opened (`tcpi_total_retrans`): a
    /// lossy radio link shows here first.
    public var retransmissions: UInt32

    /// Statistics from their parts.
    /// - Parameters:
    ///   - roundTrip: the smoothed round-trip time.
    ///   - roundTripVariation: how much it varies.
    ///   - bytesSent: bytes the peer acknowledged.
    ///   - bytesReceived: bytes received.
    ///   - retransmissions: segments sent again.
    public init(roundTrip: Duration, roundTripVariation: Duration, bytesSent: UInt64, bytesReceived: UInt64, retransmissions: UInt32) {
        self.roundTrip = roundTrip
        self.roundTripVariation = roundTripVariation
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.retransmissions = retransmissions
    }
}
