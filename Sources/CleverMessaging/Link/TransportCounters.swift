import NIOCore

/// What the kernel's TCP says about one link's bytes (Linux `TCP_INFO`), as
/// plain numbers the link's state machines take as input.
///
/// Bytes the peer's TCP acknowledged are bytes that left this side for good;
/// bytes the kernel received are bytes the peer sent, read by the application
/// or not yet. Either growing is progress, whatever the application layers see.
package struct TransportCounters: Sendable, Hashable {
    /// Bytes of data the peer's TCP acknowledged (`tcpi_bytes_acked`).
    package var bytesAcknowledged: UInt64
    /// Bytes of data received from the peer (`tcpi_bytes_received`).
    package var bytesReceived: UInt64
    /// Bytes handed to TCP so far: sent once (`tcpi_bytes_sent` less
    /// `tcpi_bytes_retrans`) plus not sent yet (`tcpi_notsent_bytes`). Once
    /// ``bytesAcknowledged`` reaches this, every byte written before the sample
    /// is with the peer's TCP.
    package var bytesHandedToTCP: UInt64
    /// How long ago the peer's TCP last sent a segment that acknowledged this
    /// side's (`tcpi_last_ack_recv`: an acknowledgement of bytes written, or
    /// bytes of its own); `nil` when unknown. Unlike the byte counters, it
    /// tells when the peer was last heard from without an earlier sample.
    package var sincePeerSegment: TimeAmount?

    /// Counters from their parts.
    package init(bytesAcknowledged: UInt64, bytesReceived: UInt64, bytesHandedToTCP: UInt64, sincePeerSegment: TimeAmount? = nil) {
        self.bytesAcknowledged = bytesAcknowledged
        self.bytesReceived = bytesReceived
        self.bytesHandedToTCP = bytesHandedToTCP
        self.sincePeerSegment = sincePeerSegment
    }

    /// Whether `self`, sampled later than `earlier`, shows bytes moving in either direction.
    package func moved(since earlier: TransportCounters) -> Bool {
        bytesAcknowledged > earlier.bytesAcknowledged || bytesReceived > earlier.bytesReceived
    }
}
