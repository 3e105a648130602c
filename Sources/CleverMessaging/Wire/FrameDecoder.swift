import NIOCore

/// Decodes a byte stream into ``FramePart``s (PROTOCOL.md section 1).
///
/// JSON frames come out whole as ``FramePart/frame(_:)``; binary frames as
/// ``FramePart/binaryHead(_:)``, one or more ``FramePart/binaryBody(_:)`` and
/// ``FramePart/binaryEnd``, so a binary body is never buffered whole. Every
/// limit of ``FrameCodecConfiguration`` is checked on the declared length,
/// before the body it governs is buffered. Use it with `ByteToMessageHandler`,
/// or step it by hand with ``decode(buffer:)``.
///
/// It is a `ByteToMessageDecoder` rather than a single-step decoder because
/// one read can complete several parts at once: the last body chunk and the
/// end of a binary frame arrive together, and the end must be delivered
/// without waiting for more bytes.
public struct FrameDecoder: ByteToMessageDecoder {
    /// The decoder's output.
    public typealias InboundOut = FramePart

    private enum State {
        /// Waiting for the 2-byte prefix and the header.
        case waitingForHeader
        /// Waiting for all `pendingHeader.contentLength` bytes of JSON content.
        case waitingForJSONContent
        /// Streaming binary content; `remaining` bytes still to come.
        case streamingBinary(remaining: Int, total: Int)
    }

    private var state: State = .waitingForHeader
    /// The header of the JSON frame whose content is awaited, while
    /// `state` is `waitingForJSONContent` (kept out of `state` so that
    /// switching on the state never copies it).
    private var pendingHeader: FrameHeader?
    /// The limits in force.
    public let configuration: FrameCodecConfiguration

    /// Creates a decoder.
    /// - Parameter configuration: the limits (defaults documented on ``FrameCodecConfiguration``).
    public init(configuration: FrameCodecConfiguration = .init()) {
        self.configuration = configuration
    }

    /// Decodes the next part, or returns `nil` when more bytes are needed.
    /// - Parameter buffer: the received bytes not yet consumed.
    /// - Returns: the next part, if one is complete.
    /// - Throws: ``FrameDecodingError``.
    public mutating func decode(buffer: inout ByteBuffer) throws -> FramePart? {
        switch state {
        case .waitingForHeader:
            return try decodeHeader(buffer: &buffer)

        case .waitingForJSONContent:
            guard let length = pendingHeader?.contentLength, buffer.readableBytes >= length else { return nil }
            let content = try parseJSONContent(length: length, buffer: &buffer)
            state = .waitingForHeader
            return .frame(Frame(header: pendingHeader.take()!, content: content))

        case .streamingBinary(let remaining, let total):
            if remaining == 0 {
                state = .waitingForHeader
                return .binaryEnd
            }
            let count = min(remaining, buffer.readableBytes)
            guard count > 0 else { return nil }
            let chunk = buffer.readSlice(length: count)!
            state = .streamingBinary(remaining: remaining - count, total: total)
            return .binaryBody(chunk)
        }
    }

    /// Reads a header; for a JSON frame whose content is already buffered,
    /// the whole frame.
    @inline(__always)
    private mutating func decodeHeader(buffer: inout ByteBuffer) throws(FrameDecodingError) -> FramePart? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) else { return nil }
        let headerLength = Int(length)
        guard headerLength <= configuration.maximumHeaderLength else {
            throw .headerTooLong(length: headerLength, limit: configuration.maximumHeaderLength)
        }
        guard buffer.readableBytes >= 2 + headerLength else { return nil }
        let limits = configuration.json
        let header = try buffer.withUnsafeReadableBytes { (raw) throws(FrameDecodingError) -> FrameHeader in
            try FrameHeader.parse(UnsafeRawBufferPointer(rebasing: raw[2..<(2 + headerLength)]), limits: limits)
        }
        buffer.moveReaderIndex(forwardBy: 2 + headerLength)
        if header.contentType.isJSON {
            guard header.contentLength <= configuration.maximumJSONContentLength else {
                throw .contentTooLong(
                    length: header.contentLength,
                    limit: configuration.maximumJSONContentLength,
                    contentType: "json"
                )
            }
            guard header.hasReadableTextEncoding else {
                throw .unsupportedContentEncoding(header.contentEncoding)
            }
            guard buffer.readableBytes >= header.contentLength else {
                state = .waitingForJSONContent
                pendingHeader = header
                return nil
            }
            let content: FrameContent
            do {
                content = try parseJSONContent(length: header.contentLength, buffer: &buffer)
            } catch {
                // Stopped as if the content had arrived separately.
                state = .waitingForJSONContent
                pendingHeader = header
                throw error
            }
            return .frame(Frame(header: header, content: content))
        }
        guard header.contentLength <= configuration.maximumBinaryContentLength else {
            throw .contentTooLong(
                length: header.contentLength,
                limit: configuration.maximumBinaryContentLength,
                contentType: header.contentType.rawValue
            )
        }
        state = .streamingBinary(remaining: header.contentLength, total: header.contentLength)
        return .binaryHead(header)
    }

    /// Parses and consumes `length` bytes of JSON content (all buffered).
    private func parseJSONContent(length: Int, buffer: inout ByteBuffer) throws(FrameDecodingError) -> FrameContent {
        let limits = configuration.json
        let value = try buffer.withUnsafeReadableBytes { (raw) throws(FrameDecodingError) -> JSONValue in
            do throws(JSONParsingError) {
                return try JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[0..<length]), limits: limits)
            } catch {
                throw .invalidJSONContent(error)
            }
        }
        buffer.moveReaderIndex(forwardBy: length)
        return .json(value)
    }

    /// Delivers every part that the buffered bytes complete.
    /// - Parameters:
    ///   - context: the handler context to fire parts on.
    ///   - buffer: the received bytes not yet consumed.
    /// - Returns: `.needMoreData` once nothing more can be decoded.
    /// - Throws: ``FrameDecodingError``.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while let part = try decode(buffer: &buffer) {
            context.fireChannelRead(wrapInboundOut(part))
        }
        return .needMoreData
    }

    /// Delivers what is left when the stream ends.
    /// - Parameters:
    ///   - context: the handler context to fire parts on.
    ///   - buffer: the received bytes not yet consumed.
    ///   - seenEOF: whether the peer closed its side.
    /// - Returns: `.needMoreData` when the stream ended cleanly between frames.
    /// - Throws: ``FrameDecodingError/truncatedFrame(expected:received:)`` when it ended inside one.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while let part = try decodeLast(buffer: &buffer, seenEOF: seenEOF) {
            context.fireChannelRead(wrapInboundOut(part))
        }
        return .needMoreData
    }

    /// Decodes what is left when the stream ends; a frame cut short is an error.
    /// - Parameters:
    ///   - buffer: the received bytes not yet consumed.
    ///   - seenEOF: whether the peer closed its side.
    /// - Returns: the next part, or `nil` when the stream ended cleanly between frames.
    /// - Throws: ``FrameDecodingError/truncatedFrame(expected:received:)`` when it ended inside one.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> FramePart? {
        if let part = try decode(buffer: &buffer) { return part }
        switch state {
        case .waitingForHeader:
            guard buffer.readableBytes > 0 else { return nil }
            let expected = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self).map { 2 + Int($0) } ?? 2
            throw FrameDecodingError.truncatedFrame(expected: expected, received: buffer.readableBytes)
        case .waitingForJSONContent:
            throw FrameDecodingError.truncatedFrame(
                expected: pendingHeader?.contentLength ?? 0,
                received: buffer.readableBytes
            )
        case .streamingBinary(let remaining, let total):
            throw FrameDecodingError.truncatedFrame(expected: total, received: total - remaining)
        }
    }
}
