/// Why bytes received could not be read as frames.
///
/// A decoder that throws one of these has stopped: the connection that sent
/// the bytes is closed, others are not affected.
public enum FrameDecodingError: Error, Sendable, Hashable {
    /// The 16-bit length prefix announces a header longer than the limit.
    case headerTooLong(length: Int, limit: Int)
    /// The header is not valid JSON (or not UTF-8).
    case headerNotJSON(JSONParsingError)
    /// The header is valid JSON but not an object.
    case headerNotObject
    /// The header lacks one of the five required keys.
    case missingRequiredKey(String)
    /// A header key has a value of the wrong type or an unknown value.
    case invalidHeaderValue(key: String, value: JSONValue, expected: String)
    /// `content-length` is negative, not an integer, or too big to represent.
    case invalidContentLength(JSONValue)
    /// The declared content is longer than the configured limit.
    case contentTooLong(length: Int, limit: Int, contentType: String)
    /// JSON content in an encoding this library does not read.
    case unsupportedContentEncoding(String)
    /// The JSON content does not parse.
    case invalidJSONContent(JSONParsingError)
    /// The stream ended inside a frame.
    case truncatedFrame(expected: Int, received: Int)
}

extension FrameDecodingError: CustomStringConvertible {
    /// A one-line explanation.
    public var description: String {
        switch self {
        case .headerTooLong(let length, let limit): return "header of \(length) bytes exceeds the limit of \(limit)"
        case .headerNotJSON(let e): return "header is not valid JSON: \(e)"
        case .headerNotObject: return "header is not a JSON object"
        case .missingRequiredKey(let key): return "header lacks the required key \"\(key)\""
        case .invalidHeaderValue(let key, let value, let expected):
            return "header key \"\(key)\" is \(value), expected \(expected)"
        case .invalidContentLength(let value): return "content-length \(value) is not a non-negative integer"
        case .contentTooLong(let length, let limit, let type):
            return "\(type) content of \(length) bytes exceeds the limit of \(limit)"
        case .unsupportedContentEncoding(let e): return "unsupported content-encoding \"\(e)\""
        case .invalidJSONContent(let e): return "content is not valid JSON: \(e)"
        case .truncatedFrame(let expected, let received):
            return "stream ended inside a frame: \(received) of \(expected) bytes received"
        }
    }
}
