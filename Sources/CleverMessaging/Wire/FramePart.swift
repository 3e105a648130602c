import NIOCore

/// What ``FrameDecoder`` produces: whole JSON frames, and binary frames as a
/// head, body chunks and an end, so a file of any size streams through in
/// bounded memory.
public enum FramePart: Sendable, Hashable {
    /// A complete frame with JSON content.
    case frame(Frame)
    /// The header of a frame with binary content; chunks and ``binaryEnd`` follow.
    case binaryHead(FrameHeader)
    /// The next bytes of the current binary content (never empty).
    case binaryBody(ByteBuffer)
    /// The current binary content is complete.
    case binaryEnd
}
