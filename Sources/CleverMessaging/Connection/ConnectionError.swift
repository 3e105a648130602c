import NIOCore

/// Why a send, a request or a connection failed.
public enum ConnectionError: Error, Sendable, Hashable {
    /// The connection is not connected, and frames sent now would not be kept
    /// (``ConnectionConfiguration/resumeQueue`` is off).
    case notConnected
    /// The connection was closed for good; nothing more can be sent on it.
    case closed
    /// The link dropped before the frame was written or the reply arrived, and
    /// the configuration does not keep it for the next link.
    case connectionLost
    /// No reply to the request arrived in time.
    case timedOut(requestedValue: String, requestID: String, timeout: TimeAmount)
    /// The request was cancelled by its caller.
    case cancelled
    /// More bytes are queued for the peer than the configured limit.
    case queueFull(queuedBytes: Int, limit: Int)
    /// The peer answered with an error reply (error extension).
    case remote(RemoteError)
    /// The frame could not be written.
    case encoding(FrameEncodingError)
    /// The reply's value could not be decoded to the expected type.
    case decoding(String)
    /// Connecting to the peer failed.
    case connectFailed(host: String, port: Int, reason: String)
    /// The link did not pass its handshake (``ConnectionConfiguration/handshake``) and was closed.
    case handshakeFailed(HandshakeError)
}

extension ConnectionError: CustomStringConvertible {
    /// A one-line explanation.
    public var description: String {
        switch self {
        case .notConnected: return "not connected"
        case .closed: return "connection closed"
        case .connectionLost: return "connection lost before completion"
        case .timedOut(let value, let id, let timeout):
            return "request \(id) for \"\(value)\" timed out after \(LogFormat.duration(timeout))"
        case .cancelled: return "cancelled"
        case .queueFull(let queued, let limit): return "send queue full: \(queued) bytes queued, limit \(limit)"
        case .remote(let error): return "peer replied with error \(error.code): \(error.message)"
        case .encoding(let error): return "cannot encode frame: \(error)"
        case .decoding(let reason): return "cannot decode reply: \(reason)"
        case .connectFailed(let host, let port, let reason): return "cannot connect to \(host):\(port): \(reason)"
        case .handshakeFailed(let error): return "\(error)"
        }
    }
}

/// An error reply from a peer that speaks the error extension.
public struct RemoteError: Error, Sendable, Hashable {
    /// A machine-readable code, such as ``Code/unknownRequest``.
    public var code: String
    /// A human-readable message.
    public var message: String

    /// Creates an error reply.
    /// - Parameters:
    ///   - code: the machine-readable code.
    ///   - message: the human-readable message.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The codes this library sends.
    public enum Code {
        /// No handler is registered for the requested value.
        public static let unknownRequest = "unknown_request"
        /// The handler threw.
        public static let handlerFailed = "handler_failed"
        /// A file request or push was refused (path policy, I/O error, checksum).
        public static let fileRefused = "file_refused"
    }

    /// The error as the JSON object carried in a reply.
    var jsonValue: JSONValue { ["code": .string(code), "message": .string(message)] }

    /// Reads an error object from a reply, if it is one.
    init?(_ value: JSONValue?) {
        guard let code = value?["code"]?.stringValue else { return nil }
        self.init(code: code, message: value?["message"]?.stringValue ?? "")
    }
}
