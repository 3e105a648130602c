import NIOCore

/// Encodes ``Frame``s into bytes; use it with `MessageToByteHandler`.
///
/// A class because it keeps a scratch buffer between frames; one encoder
/// belongs to one channel pipeline and is only used on its event loop.
public final class FrameEncoder: MessageToByteEncoder {
    /// The encoder's input.
    public typealias OutboundIn = Frame

    private var writer = FrameWriter()

    /// Creates an encoder.
    public init() {}

    /// Appends `data` to `out`.
    /// - Parameters:
    ///   - data: the frame.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError``.
    public func encode(data: Frame, out: inout ByteBuffer) throws {
        try writer.write(data, into: &out)
    }
}

@available(*, unavailable)
extension FrameEncoder: Sendable {}
