/// Why a call of the NATS client failed.
///
/// Switch on ``code`` (stable across releases) to decide what to do and show
/// ``message`` to people. The type is `Codable`, so it can be logged or sent
/// to other programs as it is.
public enum NATSError: Error, Sendable, Hashable, Codable {
    /// The server sent bytes that are not the NATS protocol: `reason` says which and why.
    case protocolViolation(reason: String)
    /// A protocol line was longer than the parser's limit (``NATSParserLimits/maximumLineLength``).
    case lineTooLong(limit: Int)
    /// A message announced a payload larger than the limit (the server's `max_payload`).
    case payloadTooLarge(size: Int, limit: Int)
    /// The server answered with `-ERR`; `message` is its text without quotes.
    case serverError(message: String)
    /// The server refused the credentials (`-ERR 'Authorization Violation'`).
    case authorizationViolation
    /// The server left `count` pings unanswered (``NATSConfiguration/maximumPingsOutstanding``);
    /// the client dropped the connection.
    case staleConnection(count: Int)
    /// A subscription's buffer was full (its consumer was too slow): `subject`
    /// was unsubscribed and its sequence ended after `limit` waiting messages.
    case slowConsumer(subject: String, limit: Int)
    /// Publishes made while reconnecting would pass the reconnect buffer:
    /// `buffered` bytes wait, `limit` is ``NATSConfiguration/reconnectBufferBytes``.
    case reconnectBufferFull(buffered: Int, limit: Int)
    /// The connection's outbound buffer holds more than `limit` bytes the server has
    /// not read yet (``NATSConfiguration/maximumPendingWriteBytes``): the server is slow.
    case outboundBufferFull(limit: Int)
    /// The client is not connected and does not buffer (it never connected yet).
    case notConnected
    /// The client was closed; nothing more can be done with it.
    case closed
    /// No reply or pong arrived in time.
    case timedOut(subject: String, timeout: Duration)
    /// A request found no subscriber to answer it (the server's 503 status).
    case noResponders(subject: String)
    /// A subject, queue group or header is not valid on the wire (empty, or contains white space or line breaks).
    case invalidArgument(reason: String)
    /// A server address could not be read (scheme, host or port).
    case invalidAddress(String)
    /// Connecting to every server failed; `reason` describes the last failure.
    case connectFailed(reason: String)
    /// The connection dropped before the operation completed.
    case connectionLost
    /// TLS could not be set up or failed.
    case tlsFailed(reason: String)
}

extension NATSError {
    /// A machine-readable kind of ``NATSError``, one per case.
    ///
    /// The raw values are stable: they will not change between releases.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        /// The code's text, in snake_case, such as `"nats_timed_out"`.
        public let rawValue: String
        /// A code from its text.
        /// - Parameter rawValue: the text, such as `"nats_timed_out"`.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's text.
        public var description: String { rawValue }

        /// ``NATSError/protocolViolation(reason:)``.
        public static let protocolViolation = Code(rawValue: "nats_protocol_violation")
        /// ``NATSError/lineTooLong(limit:)``.
        public static let lineTooLong = Code(rawValue: "nats_line_too_long")
        /// ``NATSError/payloadTooLarge(size:limit:)``.
        public static let payloadTooLarge = Code(rawValue: "nats_payload_too_large")
        /// ``NATSError/serverError(message:)``.
        public static let serverError = Code(rawValue: "nats_server_error")
        /// ``NATSError/authorizationViolation``.
        public static let authorizationViolation = Code(rawValue: "nats_authorization_violation")
        /// ``NATSError/staleConnection(count:)``.
        public static let staleConnection = Code(rawValue: "nats_stale_connection")
        /// ``NATSError/slowConsumer(subject:limit:)``.
        public static let slowConsumer = Code(rawValue: "nats_slow_consumer")
        /// ``NATSError/reconnectBufferFull(buffered:limit:)``.
        public static let reconnectBufferFull = Code(rawValue: "nats_reconnect_buffer_full")
        /// ``NATSError/outboundBufferFull(limit:)``.
        public static let outboundBufferFull = Code(rawValue: "nats_outbound_buffer_full")
        /// ``NATSError/notConnected``.
        public static let notConnected = Code(rawValue: "nats_not_connected")
        /// ``NATSError/closed``.
        public static let closed = Code(rawValue: "nats_closed")
        /// ``NATSError/timedOut(subject:timeout:)``.
        public static let timedOut = Code(rawValue: "nats_timed_out")
        /// ``NATSError/noResponders(subject:)``.
        public static let noResponders = Code(rawValue: "nats_no_responders")
        /// ``NATSError/invalidArgument(reason:)``.
        public static let invalidArgument = Code(rawValue: "nats_invalid_argument")
        /// ``NATSError/invalidAddress(_:)``.
        public static let invalidAddress = Code(rawValue: "nats_invalid_address")
        /// ``NATSError/connectFailed(reason:)``.
        public static let connectFailed = Code(rawValue: "nats_connect_failed")
        /// ``NATSError/connectionLost``.
        public static let connectionLost = Code(rawValue: "nats_connection_lost")
        /// ``NATSError/tlsFailed(reason:)``.
        public static let tlsFailed = Code(rawValue: "nats_tls_failed")
    }

    /// The error's stable machine-readable kind.
    public var code: Code {
        switch self {
        case .protocolViolation: .protocolViolation
        case .lineTooLong: .lineTooLong
        case .payloadTooLarge: .payloadTooLarge
        case .serverError: .serverError
        case .authorizationViolation: .authorizationViolation
        case .staleConnection: .staleConnection
        case .slowConsumer: .slowConsumer
        case .reconnectBufferFull: .reconnectBufferFull
        case .outboundBufferFull: .outboundBufferFull
        case .notConnected: .notConnected
        case .closed: .closed
        case .timedOut: .timedOut
        case .noResponders: .noResponders
        case .invalidArgument: .invalidArgument
        case .invalidAddress: .invalidAddress
        case .connectFailed: .connectFailed
        case .connectionLost: .connectionLost
        case .tlsFailed: .tlsFailed
        }
    }

    /// A sentence for people.
    public var message: String {
        switch self {
        case .protocolViolation(let reason): "NATS protocol violation: \(reason)"
        case .lineTooLong(let limit): "a NATS protocol line is longer than \(limit) bytes"
        case .payloadTooLarge(let size, let limit): "a NATS payload of \(size) bytes passes the limit of \(limit)"
        case .serverError(let message): "the NATS server answered -ERR '\(message)'"
        case .authorizationViolation: "the NATS server refused the credentials"
        case .staleConnection(let count): "the NATS server left \(count) pings unanswered"
        case .slowConsumer(let subject, let limit): "subscription to \(subject) fell \(limit) messages behind"
        case .reconnectBufferFull(let buffered, let limit):
            "\(buffered) bytes wait for the reconnect, one more publish would pass \(limit)"
        case .outboundBufferFull(let limit): "more than \(limit) bytes wait for a slow NATS server"
        case .notConnected: "the NATS client is not connected"
        case .closed: "the NATS client is closed"
        case .timedOut(let subject, let timeout): "no answer on \(subject) within \(timeout)"
        case .noResponders(let subject): "no subscriber answers requests on \(subject)"
        case .invalidArgument(let reason): "invalid argument: \(reason)"
        case .invalidAddress(let address): "invalid NATS server address \(address)"
        case .connectFailed(let reason): "could not connect to a NATS server: \(reason)"
        case .connectionLost: "the NATS connection dropped"
        case .tlsFailed(let reason): "NATS TLS failed: \(reason)"
        }
    }
}

extension NATSError: CustomStringConvertible {
    /// The code and the message.
    public var description: String { "\(code): \(message)" }
}
