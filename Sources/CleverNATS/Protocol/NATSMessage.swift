import NIOCore

/// A message received from NATS (`MSG` or `HMSG`).
public struct NATSMessage: Sendable, Hashable {
    /// The subject it was published to.
    public var subject: String
    /// The subject to reply to, when the publisher asked for a reply.
    public var replyTo: String?
    /// The headers, when it was published with headers.
    public var headers: NATSHeaders?
    /// The payload.
    public var payload: ByteBuffer

    /// A message from its parts.
    /// - Parameters:
    ///   - subject: the subject.
    ///   - replyTo: the reply subject.
    ///   - headers: the headers.
    ///   - payload: the payload.
    public init(subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil, payload: ByteBuffer) {
        self.subject = subject
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
    }

    /// The payload as UTF-8 text.
    public var string: String { String(buffer: payload) }
}
