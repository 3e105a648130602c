/// What ``FrameDecoder`` produces for a connection: a JSON frame as its
/// header and the ``ContentMembers`` of its content, or a part of a binary frame.
enum InboundPart {
    /// A complete frame with JSON content.
    case json(FrameHeader, ContentMembers)
    /// A part of a binary frame (``FramePart/binaryHead(_:)``,
    /// ``FramePart/binaryBody(_:)`` or ``FramePart/binaryEnd``).
    case binary(FramePart)
}
