/// Every limit the frame decoder enforces, in one place.
///
/// Each limit is checked as soon as the number it bounds is known, before any
/// of the body it governs is buffered: a header that declares 10 GiB of JSON
/// is refused when the header arrives, not after 10 GiB.
public struct FrameCodecConfiguration: Sendable, Hashable {
    /// The longest header accepted, in bytes. Default and maximum: 65535, the
    /// most the 16-bit length prefix can express.
    public var maximumHeaderLength: Int
    /// The longest JSON content accepted, in bytes. JSON content is buffered
    /// whole before it is parsed, so this bounds memory per frame. Default 16 MiB.
    public var maximumJSONContentLength: Int
    /// The longest binary content accepted, in bytes. Binary content is streamed
    /// in chunks (never buffered whole), so the default is unlimited (`Int.max`).
    public var maximumBinaryContentLength: Int
    /// Nesting and integer-size limits for JSON in headers and content.
    public var json: JSONParsingLimits

    /// Creates a configuration.
    /// - Parameters:
    ///   - maximumHeaderLength: longest header (default 65535).
    ///   - maximumJSONContentLength: longest JSON content (default 16 MiB).
    ///   - maximumBinaryContentLength: longest binary content (default unlimited).
    ///   - json: JSON limits (default depth 512, 4300 integer digits).
    public init(
        maximumHeaderLength: Int = 65535,
        maximumJSONContentLength: Int = 16 * 1024 * 1024,
        maximumBinaryContentLength: Int = .max,
        json: JSONParsingLimits = .init()
    ) {
        self.maximumHeaderLength = min(maximumHeaderLength, 65535)
        self.maximumJSONContentLength = maximumJSONContentLength
        self.maximumBinaryContentLength = maximumBinaryContentLength
        self.json = json
    }
}
