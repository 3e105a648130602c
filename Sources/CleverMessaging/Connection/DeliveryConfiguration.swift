/// Settings of acknowledged delivery between peers of this library
/// (``ConnectionConfiguration/delivery``).
///
/// Toward a peer of this library, actions carry a sequence number, the
/// receiver acknowledges them, and what was not acknowledged is sent again
/// after a reconnect; the receiver runs each action once. The client's
/// connection holds a session across its links; a ``MessagingServer`` keeps the
/// sessions of clients whose link dropped (``maximumSessions``, ``sessionLifetime``)
/// and gives a session back to the client's next link. Toward a reference peer
/// nothing changes on the wire and receipts complete on write.
public struct DeliveryConfiguration: Sendable, Hashable, Codable {
    /// Whether acknowledged delivery is offered (client) and accepted (server). Default `true`.
    public var isEnabled: Bool
    /// How long an owed acknowledgement waits for an outbound action to ride on
    /// before it goes in a small frame of its own. Default 50 ms. A read that
    /// brings a sixteenth of ``maximumUnacknowledged`` actions (or of
    /// ``maximumUnacknowledgedBytes``) since the last acknowledgement is
    /// acknowledged at its end instead, so that a fast sender's window
    /// never waits for this interval.
    public var ackInterval: Duration
    /// The most actions sent and not acknowledged; one more fails with
    /// ``MessagingError/resendWindowFull(count:bytes:)``. Default 16384.
    public var maximumUnacknowledged: Int
    /// The most bytes of actions sent and not acknowledged. Default 8 MiB.
    public var maximumUnacknowledgedBytes: Int
    /// A client's link that resumes a session: how long its handshake waits to
    /// learn the server's kind when the earlier links did not tell (the wait
    /// for the server's answer to the hello is eight times this). A first link
    /// does not wait: it opens at once, and offers the session on the open
    /// link as soon as the server's frames show `x-clever`. Default 250 ms.
    public var helloWait: Duration
    /// A client: send the delivery hello on the first link without waiting to
    /// learn the server's kind. Only for servers known to be of this library (a
    /// reference server would receive a request it does not know). Default `false`.
    public var peerIsOfThisLibrary: Bool
    /// A server: the most sessions of dropped clients it keeps (the oldest goes first). Default 1024.
    public var maximumSessions: Int
    /// A server: how long it keeps the session of a client whose link dropped. Default 10 min.
    public var sessionLifetime: Duration

    /// Creates delivery settings.
    /// - Parameters:
    ///   - isEnabled: offer and accept acknowledged delivery (default `true`).
    ///   - ackInterval: the longest an acknowledgement waits (default 50 ms).
    ///   - maximumUnacknowledged: actions in the resend window (default 16384).
    ///   - maximumUnacknowledgedBytes: bytes in the resend window (default 8 MiB).
    ///   - helloWait: a client's wait for the server's first frame on its first link (default 250 ms).
    ///   - peerIsOfThisLibrary: a client sends the hello at once (default `false`).
    ///   - maximumSessions: sessions a server keeps for dropped clients (default 1024).
    ///   - sessionLifetime: how long a server keeps one (default 10 min).
    public init(
        isEnabled: Bool = true,
        ackInterval: Duration = .milliseconds(50),
        maximumUnacknowledged: Int = 16384,
        maximumUnacknowledgedBytes: Int = 8 * 1024 * 1024,
        helloWait: Duration = .milliseconds(250),
        peerIsOfThisLibrary: Bool = false,
        maximumSessions: Int = 1024,
        sessionLifetime: Duration = .seconds(600)
    ) {
        self.isEnabled = isEnabled
        self.ackInterval = ackInterval
        self.maximumUnacknowledged = maximumUnacknowledged
        self.maximumUnacknowledgedBytes = maximumUnacknowledgedBytes
        self.helloWait = helloWait
        self.peerIsOfThisLibrary = peerIsOfThisLibrary
        self.maximumSessions = maximumSessions
        self.sessionLifetime = sessionLifetime
    }

    /// Acknowledged delivery turned off: every receipt completes on write.
    public static let off = DeliveryConfiguration(isEnabled: false)
}
