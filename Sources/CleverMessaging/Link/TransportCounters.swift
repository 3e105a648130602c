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

    /// Counters from their parts.
    package init(bytesAcknowledged: UInt64, bytesReceived: UInt64, bytesHandedToTCP: UInt64) {
        self.bytesAcknowledged = bytesAcknowledged
        self.bytesReceived = bytesReceived
        self.bytesHandedToTCP = bytesHandedToTCP
    }

    /// Whether `self`, sampled later than `earlier`, shows bytes moving in either direction.
    package func moved(since earlier: TransportCounters) -> Bool {
        bytesAcknowledged > earlier.bytesAcknowledged || bytesReceived > earlier.bytesReceived
    }
}
