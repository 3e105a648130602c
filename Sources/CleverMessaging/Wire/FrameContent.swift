import NIOCore

/// The content of a frame: a JSON value or raw bytes.
public enum FrameContent: Sendable, Hashable {
    /// JSON content (`content-type: "json"`).
    case json(JSONValue)
    /// Binary content (`content-type: "binary"`).
    case binary(ByteBuffer)

    /// The JSON value, if this is JSON content.
    public var jsonValue: JSONValue? {
        if case .json(let v) = self { return v }
        return nil
    }

    /// The bytes, if this is binary content.
    public var bytes: ByteBuffer? {
        if case .binary(let b) = self { return b }
        return nil
    }
}
