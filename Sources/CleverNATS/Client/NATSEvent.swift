/// Something that happened to a ``NATSClient``'s connection, in ``NATSClient/events``.
public enum NATSEvent: Sendable, Hashable {
    /// The first connection is up, to this server.
    case connected(NATSServerAddress)
    /// The connection dropped (with the error that dropped it, when there was one); the client reconnects.
    case disconnected(NATSError?)
    /// A new connection is up after a drop, to this server; subscriptions were sent again
    /// and buffered publishes written.
    case reconnected(NATSServerAddress)
    /// The server answered `-ERR`.
    case serverError(NATSError)
    /// A subscription's consumer fell behind and the subscription ended
    /// (``NATSError/slowConsumer(subject:limit:)``).
    case slowConsumer(subject: String)
    /// The client closed: by ``NATSClient/close()`` (no error) or after giving up reconnecting.
    case closed(NATSError?)
}
