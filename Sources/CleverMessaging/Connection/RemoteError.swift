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
