import NIOCore

/// Writes frames in the reference's exact byte layout: key order
/// `byteorder, content-type, content-encoding, content-length, message-type`,
/// then the kind-specific keys, then extension keys; `", "` and `": "` separators.
public struct FrameWriter: Sendable {
    /// Reused space for JSON content, whose length must be known before the header is written.
    private var scratch: ByteBuffer

    /// Creates a writer.
    public init() {
        scratch = ByteBufferAllocator().buffer(capacity: 256)
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
            try Self.writeHead(header, into: &out)
            out.writeImmutableBuffer(scratch)
        case .binary(let bytes):
            guard !header.contentType.isJSON else { throw .contentTypeMismatch(declared: "json") }
            header.contentLength = bytes.readableBytes
            try Self.writeHead(header, into: &out)
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
        out.writeInteger(UInt8(ascii: "}"))
        let headerLength = out.writerIndex - prefixIndex - 2
        guard headerLength <= 65535 else {
            out.moveWriterIndex(to: prefixIndex)
            throw .headerTooLong(length: headerLength)
        }
        out.setInteger(UInt16(headerLength), at: prefixIndex)
    }
}
