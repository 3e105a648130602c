import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes frames in the reference's exact byte layout: key order
/// `byteorder, content-type, content-encoding, content-length, message-type`,
/// then the kind-specific keys, then extension keys; `", "` and `": "` separators.
package struct FrameWriter: Sendable {
    /// The marker key, and its `, "key": 1` text appended to every header.
    private var marker: String?
    private(set) var headerSuffix: [UInt8]?

    /// Creates a writer.
    /// - Parameter marker: a header key written with the value `1` into every
    ///   frame's header, unless the frame's own extra keys hold it (used for
    ///   ``ExtensionHeader/capabilities``).
    package init(marker: String? = nil) {
        self.marker = marker
        if let marker {
            var suffix = ByteBuffer()
            suffix.writeStaticString(", ")
            JSONWriter.writeString(marker, into: &suffix)
            suffix.writeStaticString(": 1")
            headerSuffix = Array(suffix.readableBytesView)
        }
    }

    /// Appends `frame` to `out`, with `content-length` set from the content.
    /// - Parameters:
    ///   - frame: the frame.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError``.
    package mutating func write(_ frame: Frame, into out: inout ByteBuffer) throws(FrameEncodingError) {
        switch frame.content {
        case .json(let value):
            guard frame.header.contentType.isJSON else {
                throw .contentTypeMismatch(declared: frame.header.contentType.rawValue)
            }
            try Self.writeJSONFrame(frame.header, content: value, suffix: suffix(for: frame.header), into: &out)
        case .binary(let bytes):
            guard !frame.header.contentType.isJSON else { throw .contentTypeMismatch(declared: "json") }
            try Self.writeHead(
                frame.header,
                contentLength: bytes.readableBytes,
                into: &out,
                suffix: suffix(for: frame.header)
            )
            out.writeImmutableBuffer(bytes)
        }
    }

    /// Appends the length prefix and header of a frame whose content is sent
    /// separately (a streamed file); `header.contentLength` must be exact.
    /// - Parameters:
    ///   - header: the header.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError/headerTooLong(length:)``.
    package static func writeHead(_ header: FrameHeader, into out: inout ByteBuffer) throws(FrameEncodingError) {
        try writeHead(header, contentLength: header.contentLength, into: &out, suffix: nil)
    }

    /// Appends the length prefix and header, with the writer's marker.
    /// - Parameters:
    ///   - header: the header.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError/headerTooLong(length:)``.
    package func writeHead(marked header: FrameHeader, into out: inout ByteBuffer) throws(FrameEncodingError) {
        try Self.writeHead(header, contentLength: header.contentLength, into: &out, suffix: suffix(for: header))
    }

    /// The marker text for `header`, unless its extra keys already hold the marker.
    private func suffix(for header: FrameHeader) -> [UInt8]? {
        guard let marker, let headerSuffix, header.extra[marker] == nil else { return nil }
        return headerSuffix
    }

    /// Appends a whole JSON frame in one pass over `out`'s memory.
    private static func writeJSONFrame(
        _ header: FrameHeader,
        content value: JSONValue,
        suffix: [UInt8]?,
        into out: inout ByteBuffer
    ) throws(FrameEncodingError) {
        try writeJSONFrame(
            header,
            suffix: suffix,
            into: &out,
            maximumContentLength: { JSONWriter.maximumLength(of: value) },
            content: { JSONWriter.write(value, into: &$0) }
        )
    }

    /// Appends a whole JSON frame whose content `content` writes, in one pass
    /// over `out`'s memory.
    ///
    /// The header comes first but can only be written once the content's
    /// length is known, so the content is written a header's maximum length
    /// in, the header before it, and the content then moved down to follow
    /// the header.
    @inline(__always)
    private static func writeJSONFrame(
        _ header: FrameHeader,
        suffix: [UInt8]?,
        into out: inout ByteBuffer,
        maximumContentLength: () -> Int,
        content write: (inout JSONOutput) -> Void
    ) throws(FrameEncodingError) {
        try writeJSONFrame(
            maximumHeaderLength: maximumHeaderLength(header, suffix: suffix),
            header: { output, contentLength in writeHeader(header, contentLength: contentLength, suffix: suffix, into: &output) },
            into: &out,
            maximumContentLength: maximumContentLength,
            content: write
        )
    }

    /// Appends a whole JSON frame whose header `writeHead` writes (given the
    /// content's length, in at most `maximumHeaderLength` bytes) and whose
    /// content `write` writes, in one pass over `out`'s memory.
    @inline(__always)
    static func writeJSONFrame(
        maximumHeaderLength: Int,
        header writeHead: (inout JSONOutput, Int) -> Void,
        into out: inout ByteBuffer,
        maximumContentLength: () -> Int,
        content write: (inout JSONOutput) -> Void
    ) throws(FrameEncodingError) {
        let prefixIndex = out.writerIndex
        let gap = 2 + maximumHeaderLength
        var room = gap + 256
        var headerLength = 0
        while true {
            var overflowed = false
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { memory in
                let base = memory.baseAddress!.assumingMemoryBound(to: UInt8.self)
                var content = JSONOutput(start: base + gap, end: base + memory.count)
                write(&content)
                guard !content.overflowed else {
                    overflowed = true
                    return 0
                }
                var head = JSONOutput(start: base, end: base + gap)
                head.write("\0\0")
                writeHead(&head, content.count)
                precondition(!head.overflowed, "header longer than its bound")
                headerLength = head.count - 2
                memmove(base + head.count, base + gap, content.count)
                return head.count + content.count
            }
            guard overflowed else { break }
            room = gap + maximumContentLength()
        }
        try finishHead(headerLength: headerLength, prefixIndex: prefixIndex, out: &out)
    }

    // MARK: - Frames from their parts

    /// Appends an action message (3.1) made from its parts, without building
    /// a ``Frame``: the bytes are those of `write(.action(action, args: args, kwargs: kwargs))`.
    /// - Parameters:
    ///   - action: the action name.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError``.
    package func writeAction(_ action: String, args: [JSONValue], kwargs: JSONObject, into out: inout ByteBuffer) throws(FrameEncodingError) {
        try writeAction(action, args: args, kwargs: kwargs, sequence: nil, acknowledged: nil, into: &out)
    }

    /// Appends an action message (3.1) made from its parts with the delivery
    /// keys of this library (``ExtensionHeader/sequence``, ``ExtensionHeader/acknowledged``)
    /// after the action, for a peer that agreed to acknowledged delivery.
    /// - Parameters:
    ///   - action: the action name.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - sequence: the action's sequence number, or `nil`.
    ///   - acknowledged: the cumulative acknowledgement to carry, or `nil`.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError``.
    package func writeAction(
        _ action: String,
        args: [JSONValue],
        kwargs: JSONObject,
        sequence: UInt64?,
        acknowledged: UInt64?,
        into out: inout ByteBuffer
    ) throws(FrameEncodingError) {
        let suffix = headerSuffix
        try Self.writeJSONFrame(
            maximumHeaderLength: Self.plainHeaderLength + JSONWriter.maximumLength(of: action) + (suffix?.count ?? 0) + 80,
            header: { output, contentLength in
                Self.writeActionHeader(action, contentLength: contentLength, sequence: sequence, acknowledged: acknowledged, suffix: suffix, into: &output)
            },
            into: &out,
            maximumContentLength: { 24 + JSONWriter.maximumLength(of: .array(args)) + JSONWriter.maximumLength(of: kwargs) }
        ) { output in
            output.write("{\"args\": ")
            JSONWriter.write(.array(args), into: &output)
            output.write(", \"kwargs\": ")
            JSONWriter.writeObject(kwargs, into: &output)
            output.write(byte: UInt8(ascii: "}"))
        }
    }

    /// Appends the action message of `plainFrame` (made by
    /// ``writeAction(_:args:kwargs:into:)`` for the same `action`) with the
    /// delivery keys: its content's bytes are reused as they are, only the
    /// header is written again. A broadcast to peers with acknowledged
    /// delivery encodes its arguments once, not once per peer.
    /// - Parameters:
    ///   - action: the action name of `plainFrame`.
    ///   - plainFrame: the frame without delivery keys.
    ///   - sequence: the action's sequence number.
    ///   - acknowledged: the cumulative acknowledgement to carry, or `nil`.
    ///   - out: the buffer to append to.
    /// - Returns: `false` (and nothing written) when `plainFrame` is not a whole frame.
    /// - Throws: ``FrameEncodingError``.
    package func writeAction(
        _ action: String,
        reusing plainFrame: ByteBuffer,
        sequence: UInt64,
        acknowledged: UInt64?,
        into out: inout ByteBuffer
    ) throws(FrameEncodingError) -> Bool {
        guard let headerLength = plainFrame.getInteger(at: plainFrame.readerIndex, as: UInt16.self).map(Int.init),
            plainFrame.readableBytes >= 2 + headerLength,
            let content = plainFrame.getSlice(at: plainFrame.readerIndex + 2 + headerLength, length: plainFrame.readableBytes - 2 - headerLength)
        else {
            return false
        }
        let suffix = headerSuffix
        try content.withUnsafeReadableBytes { bytes throws(FrameEncodingError) in
            try Self.writeJSONFrame(
                maximumHeaderLength: Self.plainHeaderLength + JSONWriter.maximumLength(of: action) + (suffix?.count ?? 0) + 80,
                header: { output, contentLength in
                    Self.writeActionHeader(action, contentLength: contentLength, sequence: sequence, acknowledged: acknowledged, suffix: suffix, into: &output)
                },
                into: &out,
                maximumContentLength: { bytes.count }
            ) { output in
                output.write(bytes: bytes)
            }
        }
        return true
    }

    /// Writes the header of an action message, with the delivery keys when given.
    @inline(__always)
    static func writeActionHeader(
        _ action: String, contentLength: Int, sequence: UInt64?, acknowledged: UInt64?, suffix: [UInt8]?, into output: inout JSONOutput
    ) {
        writePlainHeaderStart(contentLength: contentLength, into: &output)
        output.write(", \"message-type\": \"message\", \"action\": ")
        JSONWriter.writeString(action, into: &output)
        writeDeliveryKeys(sequence: sequence, acknowledged: acknowledged, into: &output)
        writeHeaderEnd(suffix: suffix, into: &output)
    }

    /// Writes the keys of acknowledged delivery that are given, their numbers
    /// as digits straight into the output.
    @inline(__always)
    static func writeDeliveryKeys(sequence: UInt64?, acknowledged: UInt64?, into output: inout JSONOutput) {
        if let sequence {
            output.write(", \"x-clever-seq\": ")
            output.write(unsigned: sequence)
        }
        if let acknowledged {
            output.write(", \"x-clever-acked\": ")
            output.write(unsigned: acknowledged)
        }
    }

    /// Appends a request (3.3) made from its parts, without building a
    /// ``Frame``: the bytes are those of `write(.request(requestedValue, id: id, args: args, kwargs: kwargs))`.
    /// - Parameters:
    ///   - requestedValue: the name of the value asked for.
    ///   - id: the request id.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError``.
    package func writeRequest(
        _ requestedValue: String,
        id: JSONValue,
        args: [JSONValue],
        kwargs: JSONObject,
        into out: inout ByteBuffer
    ) throws(FrameEncodingError) {
        let suffix = headerSuffix
        try Self.writeJSONFrame(
            maximumHeaderLength: Self.plainHeaderLength + (suffix?.count ?? 0),
            header: { output, contentLength in Self.writeRequestHeader(contentLength: contentLength, suffix: suffix, into: &output) },
            into: &out,
            maximumContentLength: {
                64 + JSONWriter.maximumLength(of: requestedValue) + JSONWriter.maximumLength(of: id)
                    + JSONWriter.maximumLength(of: .array(args)) + JSONWriter.maximumLength(of: kwargs)
            }
        ) { output in
            Self.writeRequestContentStart(requestedValue, id: id, into: &output)
            output.write(", \"args\": ")
            JSONWriter.write(.array(args), into: &output)
            output.write(", \"kwargs\": ")
            JSONWriter.writeObject(kwargs, into: &output)
            output.write(byte: UInt8(ascii: "}"))
        }
    }

    /// Writes the header of a request frame (the plain layout, with `suffix`).
    @inline(__always)
    static func writeRequestHeader(contentLength: Int, suffix: [UInt8]?, into output: inout JSONOutput) {
        writePlainHeaderStart(contentLength: contentLength, into: &output)
        output.write(", \"message-type\": \"request\"")
        writeHeaderEnd(suffix: suffix, into: &output)
    }

    /// Writes a request's content up to its arguments: `{"requested_value": …, "request_id": …`.
    @inline(__always)
    static func writeRequestContentStart(_ requestedValue: String, id: JSONValue, into output: inout JSONOutput) {
        output.write("{\"requested_value\": ")
        JSONWriter.writeString(requestedValue, into: &output)
        output.write(", \"request_id\": ")
        JSONWriter.write(id, into: &output)
    }

    /// Appends a value response (3.4) made from its parts, without building a
    /// ``Frame``: the bytes are those of `write(.response(requestedValue, id: id, value: value))`.
    /// - Parameters:
    ///   - requestedValue: copied from the request.
    ///   - id: copied from the request, exactly as received.
    ///   - value: the answer.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError``.
    package func writeResponse(_ requestedValue: String, id: JSONValue, value: JSONValue, into out: inout ByteBuffer) throws(FrameEncodingError) {
        let suffix = headerSuffix
        try Self.writeJSONFrame(
            maximumHeaderLength: Self.plainHeaderLength + JSONWriter.maximumLength(of: requestedValue)
                + JSONWriter.maximumLength(of: id) + (suffix?.count ?? 0),
            header: { output, contentLength in
                Self.writePlainHeaderStart(contentLength: contentLength, into: &output)
                output.write(", \"message-type\": \"response\", \"requested_value\": ")
                JSONWriter.writeString(requestedValue, into: &output)
                output.write(", \"request_id\": ")
                JSONWriter.write(id, into: &output)
                Self.writeHeaderEnd(suffix: suffix, into: &output)
            },
            into: &out,
            maximumContentLength: { 12 + JSONWriter.maximumLength(of: value) }
        ) { output in
            output.write("{\"value\": ")
            JSONWriter.write(value, into: &output)
            output.write(byte: UInt8(ascii: "}"))
        }
    }

    /// Appends the length prefix and the header with `contentLength` in place
    /// of `header.contentLength`.
    private static func writeHead(
        _ header: FrameHeader,
        contentLength: Int,
        into out: inout ByteBuffer,
        suffix: [UInt8]?
    ) throws(FrameEncodingError) {
        let prefixIndex = out.writerIndex
        var headerLength = 0
        out.writeJSONText(
            estimate: 256,
            maximumLength: { 2 + maximumHeaderLength(header, suffix: suffix) }
        ) { output in
            output.write("\0\0")
            writeHeader(header, contentLength: contentLength, suffix: suffix, into: &output)
            headerLength = output.count - 2
        }
        try finishHead(headerLength: headerLength, prefixIndex: prefixIndex, out: &out)
    }

    /// Sets the length prefix at `prefixIndex`, or takes back what was
    /// written from there when the header is too long for it.
    private static func finishHead(headerLength: Int, prefixIndex: Int, out: inout ByteBuffer) throws(FrameEncodingError) {
        guard headerLength <= 65535 else {
            out.moveWriterIndex(to: prefixIndex)
            throw .headerTooLong(length: headerLength)
        }
        out.setInteger(UInt16(headerLength), at: prefixIndex)
    }

    // MARK: - Headers of the frames made from their parts

    /// A bound of the length of a header made from parts, besides its
    /// strings, id and marker: the keys, separators, fixed values and braces.
    static let plainHeaderLength = 256

    /// Writes what every JSON header made from parts starts with, through
    /// `content-length`: the bytes ``writeHeader(_:contentLength:suffix:into:)``
    /// writes for a header of this host's byte order, JSON content in UTF-8.
    @inline(__always)
    static func writePlainHeaderStart(contentLength: Int, into output: inout JSONOutput) {
        switch FrameHeader.ByteOrder.host {
        case .little: output.write("{\"byteorder\": \"little\"")
        case .big: output.write("{\"byteorder\": \"big\"")
        }
        output.write(", \"content-type\": \"json\", \"content-encoding\": \"utf-8\", \"content-length\": ")
        output.write(integer: contentLength)
    }

    /// Writes the marker, if any, and the closing brace of a header made from parts.
    @inline(__always)
    static func writeHeaderEnd(suffix: [UInt8]?, into output: inout JSONOutput) {
        if let suffix { suffix.withUnsafeBytes { output.write(bytes: $0) } }
        output.write(byte: UInt8(ascii: "}"))
    }

    /// Writes the header's JSON text.
    private static func writeHeader(_ header: FrameHeader, contentLength: Int, suffix: [UInt8]?, into output: inout JSONOutput) {
        switch header.byteOrder {
        case .little: output.write("{\"byteorder\": \"little\"")
        case .big: output.write("{\"byteorder\": \"big\"")
        }
        switch header.contentType {
        case .json: output.write(", \"content-type\": \"json\"")
        case .binary: output.write(", \"content-type\": \"binary\"")
        case .other(let type):
            output.write(", \"content-type\": ")
            JSONWriter.writeString(type, into: &output)
        }
        if header.contentEncoding == "utf-8" {
            output.write(", \"content-encoding\": \"utf-8\"")
        } else {
            output.write(", \"content-encoding\": ")
            JSONWriter.writeString(header.contentEncoding, into: &output)
        }
        output.write(", \"content-length\": ")
        output.write(integer: contentLength)
        switch header.messageType {
        case .message: output.write(", \"message-type\": \"message\"")
        case .request: output.write(", \"message-type\": \"request\"")
        case .response: output.write(", \"message-type\": \"response\"")
        case .other(let type):
            output.write(", \"message-type\": ")
            JSONWriter.writeString(type, into: &output)
        }
        if let action = header.action {
            output.write(", \"action\": ")
            JSONWriter.writeString(action, into: &output)
        }
        if let filePath = header.filePath {
            output.write(", \"filepath\": ")
            JSONWriter.writeString(filePath, into: &output)
        }
        if let requestedValue = header.requestedValue {
            output.write(", \"requested_value\": ")
            JSONWriter.writeString(requestedValue, into: &output)
        }
        if let requestID = header.requestID {
            output.write(", \"request_id\": ")
            JSONWriter.write(requestID, into: &output)
        }
        writeDeliveryKeys(sequence: header.deliverySequence, acknowledged: header.deliveryAcknowledgement, into: &output)
        if !header.extra.isEmpty {
            for (key, value) in header.extra where HeaderKey(rawValue: key) == nil && !header.typesDeliveryKey(key) {
                output.write(", ")
                JSONWriter.writeString(key, into: &output)
                output.write(": ")
                JSONWriter.write(value, into: &output)
            }
        }
        if let suffix { suffix.withUnsafeBytes { output.write(bytes: $0) } }
        output.write(byte: UInt8(ascii: "}"))
    }

    /// An upper bound of the length of the header's JSON text.
    private static func maximumHeaderLength(_ header: FrameHeader, suffix: [UInt8]?) -> Int {
        // The keys, separators and braces, with room for the longest fixed values.
        var length = 256
        length += JSONWriter.maximumLength(of: header.contentType.rawValue)
        length += JSONWriter.maximumLength(of: header.contentEncoding)
        length += JSONWriter.maximumLength(of: header.messageType.rawValue)
        if let action = header.action { length += JSONWriter.maximumLength(of: action) }
        if let filePath = header.filePath { length += JSONWriter.maximumLength(of: filePath) }
        if let requestedValue = header.requestedValue { length += JSONWriter.maximumLength(of: requestedValue) }
        if let requestID = header.requestID { length += JSONWriter.maximumLength(of: requestID) }
        // `, "x-clever-acked": ` and 20 digits, twice.
        if header.deliverySequence != nil || header.deliveryAcknowledgement != nil { length += 2 * 40 }
        for (key, value) in header.extra {
            length += 4 + JSONWriter.maximumLength(of: key) + JSONWriter.maximumLength(of: value)
        }
        return length + (suffix?.count ?? 0)
    }
}
