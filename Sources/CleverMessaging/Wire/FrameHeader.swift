import OrderedCollections

/// The JSON header of a frame (PROTOCOL.md section 1): the five required
/// fields typed, the kind-specific fields typed, and every other key kept.
public struct FrameHeader: Sendable, Hashable {
    /// The sender's native byte order (`byteorder`); informational.
    public var byteOrder: ByteOrder
    /// How to read the content (`content-type`).
    public var contentType: ContentType
    /// The text encoding of JSON content (`content-encoding`), `"utf-8"` in practice.
    public var contentEncoding: String
    /// The byte length of the content (`content-length`).
    public var contentLength: Int
    /// The kind of frame (`message-type`).
    public var messageType: MessageType
    /// The action name of a message (`action`), if present.
    public var action: String?
    /// The destination path of a file push (`filepath`), if present.
    public var filePath: String?
    /// The requested value a response answers (`requested_value`), if present.
    public var requestedValue: String?
    /// The id of the request a response answers (`request_id`), if present;
    /// kept as the exact JSON value received so it can be echoed.
    public var requestID: JSONValue?
    /// The sequence number of an action sent with acknowledged delivery
    /// (`x-clever-seq`), when its value is a non-negative JSON integer;
    /// any other value of that key stays in ``extra``, as it was received.
    public var deliverySequence: UInt64?
    /// The cumulative acknowledgement an action carries (`x-clever-acked`),
    /// when its value is a non-negative JSON integer; any other value of that
    /// key stays in ``extra``, as it was received.
    public var deliveryAcknowledgement: UInt64?
    /// Every other header key, in the order received (extensions such as `sha256`).
    public var extra: JSONObject

    /// Creates a header.
    /// - Parameters:
    ///   - byteOrder: the sender's byte order (default: this host's).
    ///   - contentType: JSON or binary content.
    ///   - contentEncoding: the text encoding (default `"utf-8"`).
    ///   - contentLength: the content's byte length (the encoder sets it from the content).
    ///   - messageType: message, request or response.
    ///   - action: the `action` key.
    ///   - filePath: the `filepath` key.
    ///   - requestedValue: the `requested_value` key.
    ///   - requestID: the `request_id` key.
    ///   - deliverySequence: the `x-clever-seq` key.
    ///   - deliveryAcknowledgement: the `x-clever-acked` key.
    ///   - extra: any other keys.
    public init(
        byteOrder: ByteOrder = .host,
        contentType: ContentType,
        contentEncoding: String = "utf-8",
        contentLength: Int = 0,
        messageType: MessageType,
        action: String? = nil,
        filePath: String? = nil,
        requestedValue: String? = nil,
        requestID: JSONValue? = nil,
        deliverySequence: UInt64? = nil,
        deliveryAcknowledgement: UInt64? = nil,
        extra: JSONObject = [:]
    ) {
        self.byteOrder = byteOrder
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.contentLength = contentLength
        self.messageType = messageType
        self.action = action
        self.filePath = filePath
        self.requestedValue = requestedValue
        self.requestID = requestID
        self.deliverySequence = deliverySequence
        self.deliveryAcknowledgement = deliveryAcknowledgement
        self.extra = extra
    }

    /// The header as one JSON object, in the reference's key order, then the
    /// delivery numbers (as this library writes them), extra keys last.
    public var jsonObject: JSONObject {
        var object: JSONObject = [
            HeaderKey.byteOrder.rawValue: .string(byteOrder.rawValue),
            HeaderKey.contentType.rawValue: .string(contentType.rawValue),
            HeaderKey.contentEncoding.rawValue: .string(contentEncoding),
            HeaderKey.contentLength.rawValue: .integer(contentLength),
            HeaderKey.messageType.rawValue: .string(messageType.rawValue),
        ]
        if let action { object[HeaderKey.action.rawValue] = .string(action) }
        if let filePath { object[HeaderKey.filePath.rawValue] = .string(filePath) }
        if let requestedValue { object[HeaderKey.requestedValue.rawValue] = .string(requestedValue) }
        if let requestID { object[HeaderKey.requestID.rawValue] = requestID }
        if let deliverySequence { object[ExtensionHeader.sequence] = .init(deliveryNumber: deliverySequence) }
        if let deliveryAcknowledgement { object[ExtensionHeader.acknowledged] = .init(deliveryNumber: deliveryAcknowledgement) }
        for (key, value) in extra where object[key] == nil { object[key] = value }
        return object
    }
}

extension FrameHeader {
    /// The `byteorder` header field.
    public enum ByteOrder: String, Sendable, Hashable, CaseIterable {
        /// `"little"`.
        case little
        /// `"big"`.
        case big

        /// This host's byte order.
        public static var host: ByteOrder { 1.littleEndian == 1 ? .little : .big }
    }

    /// The `content-type` header field.
    public enum ContentType: Sendable, Hashable {
        /// `"json"`: the content is JSON text in `content-encoding`.
        case json
        /// `"binary"`: the content is raw bytes.
        case binary
        /// Any other value; the content is treated as bytes (PROTOCOL.md section 1).
        case other(String)

        /// Creates the field from its header text.
        /// - Parameter rawValue: the header text.
        public init(rawValue: String) {
            switch rawValue {
            case "json": self = .json
            case "binary": self = .binary
            default: self = .other(rawValue)
            }
        }

        /// The header text.
        public var rawValue: String {
            switch self {
            case .json: return "json"
            case .binary: return "binary"
            case .other(let s): return s
            }
        }

        /// Whether the content is JSON (otherwise it is bytes).
        public var isJSON: Bool { self == .json }
    }

    /// The `message-type` header field.
    public enum MessageType: Sendable, Hashable {
        /// `"message"`: an action or a file push.
        case message
        /// `"request"`: a request for a value or a file.
        case request
        /// `"response"`: the answer to a request.
        case response
        /// Any other value; a connection logs and drops such frames.
        case other(String)

        /// Creates the field from its header text.
        /// - Parameter rawValue: the header text.
        public init(rawValue: String) {
            switch rawValue {
            case "message": self = .message
            case "request": self = .request
            case "response": self = .response
            default: self = .other(rawValue)
            }
        }

        /// The header text.
        public var rawValue: String {
            switch self {
            case .message: return "message"
            case .request: return "request"
            case .response: return "response"
            case .other(let s): return s
            }
        }
    }
}

extension JSONValue {
    /// A delivery number as the JSON integer it was read from.
    init(deliveryNumber: UInt64) {
        self = Int(exactly: deliveryNumber).map(JSONValue.integer) ?? .bigInteger(String(deliveryNumber))
    }
}

/// The header keys this library gives a meaning to.
enum HeaderKey: String, CaseIterable {
    case byteOrder = "byteorder"
    case contentType = "content-type"
    case contentEncoding = "content-encoding"
    case contentLength = "content-length"
    case messageType = "message-type"
    case action = "action"
    case filePath = "filepath"
    case requestedValue = "requested_value"
    case requestID = "request_id"

    /// The key's position in `allCases`, for table lookups.
    var index: Int {
        switch self {
        case .byteOrder: return 0
        case .contentType: return 1
        case .contentEncoding: return 2
        case .contentLength: return 3
        case .messageType: return 4
        case .action: return 5
        case .filePath: return 6
        case .requestedValue: return 7
        case .requestID: return 8
        }
    }

    /// The key whose UTF-8 bytes are `bytes`, without allocating.
    static func match(_ bytes: UnsafeRawBufferPointer) -> HeaderKey? {
        switch bytes.count {
        case 6: return bytes.equals("action") ? .action : nil
        case 8: return bytes.equals("filepath") ? .filePath : nil
        case 9: return bytes.equals("byteorder") ? .byteOrder : nil
        case 10: return bytes.equals("request_id") ? .requestID : nil
        case 12: return bytes.equals("content-type") ? .contentType : bytes.equals("message-type") ? .messageType : nil
        case 14: return bytes.equals("content-length") ? .contentLength : nil
        case 15: return bytes.equals("requested_value") ? .requestedValue : nil
        case 16: return bytes.equals("content-encoding") ? .contentEncoding : nil
        default: return nil
        }
    }
}

