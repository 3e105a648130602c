import NIOCore

/// Writes frames in the reference's exact byte layout: key order
/// `byteorder, content-type, content-encoding, content-length, message-type`,
/// then the kind-specific keys, then extension keys; `", "` and `": "` separators.
public struct FrameWriter: Sendable {
    /// Reused space for JSON content, whose length must be known before the header is written.
    private var scratch: ByteBuffer
    /// The marker key, and its `, "key": 1` text appended to every header.
    private var marker: String?
    private var headerSuffix: ByteBuffer?

    /// Creates a writer.
    /// - Parameter marker: a header key written with the value `1` into every
    ///   frame's header, unless the frame's own extra keys hold it (used for
    ///   ``ExtensionHeader/capabilities``).
    public init(marker: String? = nil) {
        scratch = ByteBufferAllocator().buffer(capacity: 256)
        self.marker = marker
        if let marker {
            var suffix = ByteBuffer()
            suffix.writeStaticString(", ")
            JSONWriter.writeString(marker, into: &suffix)
            suffix.writeStaticString(": 1")
            headerSuffix = suffix
        }
    }

    /// Appends `frame` to `out`, with `content-length` set from the content.
    /// - Parameters:
    ///   - frame: the frame.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError``.
    public mutating func write(_ frame: Frame, into out: inout ByteBuffer) throws(FrameEncodingError) {
        var header = frame.header
        switch frame.content {
        case .json(let value):
            guard header.contentType.isJSON else { throw .contentTypeMismatch(declared: header.contentType.rawValue) }
            scratch.clear()
            JSONWriter.write(value, into: &scratch)
            header.contentLength = scratch.readableBytes
            try Self.writeHead(header, into: &out, suffix: suffix(for: header))
            out.writeImmutableBuffer(scratch)
        case .binary(let bytes):
            guard !header.contentType.isJSON else { throw .contentTypeMismatch(declared: "json") }
            header.contentLength = bytes.readableBytes
            try Self.writeHead(header, into: &out, suffix: suffix(for: header))
            out.writeImmutableBuffer(bytes)
        }
    }

    /// Appends the length prefix and header of a frame whose content is sent
    /// separately (a streamed file); `header.contentLength` must be exact.
    /// - Parameters:
    ///   - header: the header.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError/headerTooLong(length:)``.
    public static func writeHead(_ header: FrameHeader, into out: inout ByteBuffer) throws(FrameEncodingError) {
        try writeHead(header, into: &out, suffix: nil)
    }

    /// Appends the length prefix and header, with the writer's marker.
    /// - Parameters:
    ///   - header: the header.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError/headerTooLong(length:)``.
    public func writeHead(marked header: FrameHeader, into out: inout ByteBuffer) throws(FrameEncodingError) {
        try Self.writeHead(header, into: &out, suffix: suffix(for: header))
    }

    /// The marker text for `header`, unless its extra keys already hold the marker.
    private func suffix(for header: FrameHeader) -> ByteBuffer? {
        guard let marker, let headerSuffix, header.extra[marker] == nil else { return nil }
        return headerSuffix
    }

    private static func writeHead(_ header: FrameHeader, into out: inout ByteBuffer, suffix: ByteBuffer?) throws(FrameEncodingError) {
        let prefixIndex = out.writerIndex
        out.writeInteger(UInt16(0))
        out.writeStaticString("{\"byteorder\": ")
        JSONWriter.writeString(header.byteOrder.rawValue, into: &out)
        out.writeStaticString(", \"content-type\": ")
        JSONWriter.writeString(header.contentType.rawValue, into: &out)
        out.writeStaticString(", \"content-encoding\": ")
        JSONWriter.writeString(header.contentEncoding, into: &out)
        out.writeStaticString(", \"content-length\": ")
        JSONWriter.writeInteger(header.contentLength, into: &out)
        out.writeStaticString(", \"message-type\": ")
        JSONWriter.writeString(header.messageType.rawValue, into: &out)
        if let action = header.action {
            out.writeStaticString(", \"action\": ")
            JSONWriter.writeString(action, into: &out)
        }
        if let filePath = header.filePath {
            out.writeStaticString(", \"filepath\": ")
            JSONWriter.writeString(filePath, into: &out)
        }
        if let requestedValue = header.requestedValue {
            out.writeStaticString(", \"requested_value\": ")
            JSONWriter.writeString(requestedValue, into: &out)
        }
        if let requestID = header.requestID {
            out.writeStaticString(", \"request_id\": ")
            JSONWriter.write(requestID, into: &out)
        }
        for (key, value) in header.extra where HeaderKey(rawValue: key) == nil {
            out.writeStaticString(", ")
            JSONWriter.writeString(key, into: &out)
            out.writeStaticString(": ")
            JSONWriter.write(value, into: &out)
        }
        if let suffix { out.writeImmutableBuffer(suffix) }
        out.writeInteger(UInt8(ascii: "}"))
        let headerLength = out.writerIndex - prefixIndex - 2
        guard headerLength <= 65535 else {
            out.moveWriterIndex(to: prefixIndex)
            throw .headerTooLong(length: headerLength)
        }
        out.setInteger(UInt16(headerLength), at: prefixIndex)
    }
}
