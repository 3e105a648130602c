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

    /// A header kept while its frame's content is awaited.
    private final class PendingHeader: Sendable {
        let header: FrameHeader

        init(_ header: FrameHeader) {
            self.header = header
        }
    }

    private var state: State = .waitingForHeader
    /// The header of the JSON frame whose content is awaited, while
    /// `state` is `waitingForJSONContent` (kept out of `state` so that
    /// switching on the state never copies it, and boxed so that the decoder,
    /// which a connection copies in and out once per read, stays small).
    private var pendingHeader: PendingHeader?
    /// The limits in force.
    public let configuration: FrameCodecConfiguration
    /// The keys of the last `kwargs` object ``decodeInbound(buffer:)`` read,
    /// which the next one shares when it has the same.
    private var kwargsKeys = ContiguousArray<String>()
    /// Looks up the handler of an action or request as its frame arrives (set
    /// by a connection): a handler that decodes its arguments itself gets the
    /// `kwargs` object as its checked text, not as a ``JSONValue`` tree.
    var handlers: HandlerLookup?

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
        try next(buffer: &buffer) { (content, limits, _, _) throws(JSONParsingError) -> JSONValue in
            try JSONParser.parse(content, limits: limits)
        } json: { header, value in
            .frame(Frame(header: header, content: .json(value)))
        } other: { $0 }
    }

    /// Decodes the next part as a connection reads it: the content of a JSON
    /// frame comes as its ``ContentMembers``, without the outer object being built.
    /// Accepts and refuses exactly what ``decode(buffer:)`` does.
    /// - Parameter buffer: the received bytes not yet consumed.
    /// - Returns: the next part, if one is complete.
    /// - Throws: ``FrameDecodingError``.
    @inline(__always)  // Inlined into the read loop, the part is built in place instead of copied out.
    mutating func decodeInbound(buffer: inout ByteBuffer) throws(FrameDecodingError) -> InboundPart? {
        var kwargsKeys = self.kwargsKeys
        defer { self.kwargsKeys = kwargsKeys }
        return try next(buffer: &buffer) { (content, limits, target, frame) throws(JSONParsingError) -> ContentMembers in
            guard let target else {
                return try JSONParser.parseContentMembers(content, limits: limits, kwargsKeys: &kwargsKeys)
            }
            return try Self.parseMembers(content, limits: limits, kwargsKeys: &kwargsKeys, for: target, frame: frame)
        } json: { header, members in
            .json(header, members)
        } other: { .binary($0) }
    }

    /// Parses the content of a frame whose handler was looked up (see
    /// ``handlers``): the `kwargs` stay text for a handler that decodes them
    /// itself. Out of line, so that the read loop stays as small for other frames.
    @inline(never)
    private static func parseMembers(
        _ content: UnsafeRawBufferPointer,
        limits: JSONParsingLimits,
        kwargsKeys: inout ContiguousArray<String>,
        for target: HandlerLookup.Target,
        frame: ByteBuffer
    ) throws(JSONParsingError) -> ContentMembers {
        var members: ContentMembers
        var textRange: Range<Int>?
        switch target {
        case .action(let action, let registry):
            let handler = registry.action(action)
            let keep = handler?.decodesItsArguments ?? false
            members = try JSONParser.parseContentMembers(content, limits: limits, kwargsKeys: &kwargsKeys, textRange: &textRange) { _ in keep }
            members.typed.resolvedAction = .some(handler)
        case .request(let registry):
            var resolved: (name: String, handler: HandlerRegistry.Request?)?
            members = try JSONParser.parseContentMembers(content, limits: limits, kwargsKeys: &kwargsKeys, textRange: &textRange) { requestedValue in
                guard let name = requestedValue?.stringValue else { return false }
                let handler = registry.decodedRequest(name)
                resolved = (name, handler)
                return handler?.decodesItsArguments ?? false
            }
            if let resolved { members.typed.resolvedRequest = resolved }
        case .replyText:
            var valueRange: Range<Int>?
            members = try JSONParser.parseResponseMembers(content, limits: limits, valueRange: &valueRange)
            if let valueRange {
                members.typed.valueText = frame.getSlice(at: frame.readerIndex + valueRange.lowerBound, length: valueRange.count)
            }
        }
        if let textRange {
            members.typed.kwargsText = frame.getSlice(at: frame.readerIndex + textRange.lowerBound, length: textRange.count)
        }
        return members
    }

    /// How many more bytes `buffer` needs before ``decode(buffer:)`` can make
    /// progress, once it returned `nil` for it (at least 1).
    /// - Parameter buffer: the bytes not consumed by the last call.
    /// - Returns: the number of bytes still missing from the part in progress.
    func bytesMissing(in buffer: ByteBuffer) -> Int {
        let readable = buffer.readableBytes
        let needed: Int
        switch state {
        case .waitingForHeader:
            if let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) {
                needed = 2 + Int(length)
            } else {
                needed = 2
            }
        case .waitingForJSONContent:
            needed = pendingHeader?.header.contentLength ?? 0
        case .streamingBinary:
            needed = readable + 1
        }
        return max(1, needed - readable)
    }

    /// Decodes the next part; `parse` reads the content of a JSON frame,
    /// `json` makes its part from the header and what `parse` read, `other`
    /// wraps the parts of binary frames.
    @inline(__always)
    private mutating func next<Content, Part>(
        buffer: inout ByteBuffer,
        parse: (UnsafeRawBufferPointer, JSONParsingLimits, HandlerLookup.Target?, ByteBuffer) throws(JSONParsingError) -> Content,
        json: (consuming FrameHeader, consuming Content) -> Part,
        other: (FramePart) -> Part
    ) throws(FrameDecodingError) -> Part? {
        switch state {
        case .waitingForHeader:
            guard let header = try decodeHeader(buffer: &buffer) else { return nil }
            guard header.contentType.isJSON else { return other(.binaryHead(header)) }
            guard buffer.readableBytes >= header.contentLength else {
                state = .waitingForJSONContent
                pendingHeader = PendingHeader(header)
                return nil
            }
            let content: Content
            do {
                let target = handlers?.target(header)
                content = try parseJSONContent(length: header.contentLength, buffer: &buffer) { (bytes, limits, frame) throws(JSONParsingError) in
                    try parse(bytes, limits, target, frame)
                }
            } catch {
                // Stopped as if the content had arrived separately.
                state = .waitingForJSONContent
                pendingHeader = PendingHeader(header)
                throw error
            }
            return json(header, content)

        case .waitingForJSONContent:
            guard let header = pendingHeader?.header, buffer.readableBytes >= header.contentLength else { return nil }
            let target = handlers?.target(header)
            let content = try parseJSONContent(length: header.contentLength, buffer: &buffer) { (bytes, limits, frame) throws(JSONParsingError) in
                try parse(bytes, limits, target, frame)
            }
            state = .waitingForHeader
            pendingHeader = nil
            return json(header, content)

        case .streamingBinary(let remaining, let total):
            if remaining == 0 {
                state = .waitingForHeader
                return other(.binaryEnd)
            }
            let count = min(remaining, buffer.readableBytes)
            guard count > 0 else { return nil }
            let chunk = buffer.readSlice(length: count)!
            state = .streamingBinary(remaining: remaining - count, total: total)
            return other(.binaryBody(chunk))
        }
    }

    /// Reads a header and checks its limits; a binary frame's body starts
    /// streaming. `nil` when the header is not all buffered yet.
    @inline(__always)
    private mutating func decodeHeader(buffer: inout ByteBuffer) throws(FrameDecodingError) -> FrameHeader? {
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
            return header
        }
        guard header.contentLength <= configuration.maximumBinaryContentLength else {
            throw .contentTooLong(
                length: header.contentLength,
                limit: configuration.maximumBinaryContentLength,
                contentType: header.contentType.rawValue
            )
        }
        state = .streamingBinary(remaining: header.contentLength, total: header.contentLength)
        return header
    }

    /// Parses and consumes `length` bytes of JSON content (all buffered) with
    /// `parse`, which is also given `buffer` (the content at its reader index).
    @inline(__always)
    private func parseJSONContent<Content>(
        length: Int,
        buffer: inout ByteBuffer,
        _ parse: (UnsafeRawBufferPointer, JSONParsingLimits, ByteBuffer) throws(JSONParsingError) -> Content
    ) throws(FrameDecodingError) -> Content {
        let limits = configuration.json
        let content = try buffer.withUnsafeReadableBytes { (raw) throws(FrameDecodingError) -> Content in
            do throws(JSONParsingError) {
                return try parse(UnsafeRawBufferPointer(rebasing: raw[0..<length]), limits, buffer)
            } catch {
                throw .invalidJSONContent(error)
            }
        }
        buffer.moveReaderIndex(forwardBy: length)
        return content
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
                expected: pendingHeader?.header.contentLength ?? 0,
                received: buffer.readableBytes
            )
        case .streamingBinary(let remaining, let total):
            throw FrameDecodingError.truncatedFrame(expected: total, received: total - remaining)
        }
    }
}
