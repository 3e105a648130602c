import NIOCore

/// One operation a NATS server sends, as the parser reads it.
enum NATSServerOperation: Sendable, Hashable {
    /// `INFO {json}`.
    case info(NATSServerInfo)
    /// `MSG` or `HMSG`: a message for subscription `sid`.
    case message(sid: UInt64, NATSMessage)
    /// `PING`.
    case ping
    /// `PONG`.
    case pong
    /// `+OK`.
    case ok
    /// `-ERR 'text'`.
    case error(String)
}
