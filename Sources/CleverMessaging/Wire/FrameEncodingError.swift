/// Why a frame could not be written.
public enum FrameEncodingError: Error, Sendable, Hashable {
    /// The header would be longer than the 65535 bytes the length prefix allows.
    case headerTooLong(length: Int)
    /// The content type and the content disagree (JSON content in a binary frame, or the reverse).
    case contentTypeMismatch(declared: String)
}

extension FrameEncodingError: CustomStringConvertible {
    /// A one-line explanation.
    public var description: String {
        switch self {
        case .headerTooLong(let length): return "header of \(length) bytes exceeds 65535"
        case .contentTypeMismatch(let declared): return "content does not match content-type \"\(declared)\""
        }
    }
}
