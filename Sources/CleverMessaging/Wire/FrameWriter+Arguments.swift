import NIOCore

extension FrameWriter {
    /// Appends an action message (3.1) made from its name and arguments,
    /// with the delivery keys when given (see
    /// ``writeAction(_:args:kwargs:sequence:acknowledged:into:)``); encoded
    /// arguments are copied in as they are.
    /// - Parameters:
    ///   - action: the action name.
    ///   - arguments: the arguments.
    ///   - sequence: the action's sequence number, or `nil`.
    ///   - acknowledged: the cumulative acknowledgement to carry, or `nil`.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError``.
    package func writeAction(
        _ action: String,
        arguments: ActionArguments,
        sequence: UInt64? = nil,
        acknowledged: UInt64? = nil,
        into out: inout ByteBuffer
    ) throws(FrameEncodingError) {
        let suffix = headerSuffix
        try Self.writeJSONFrame(
            maximumHeaderLength: Self.plainHeaderLength + JSONWriter.maximumLength(of: action) + (suffix?.count ?? 0) + 80,
            header: { output, contentLength in
                Self.writeActionHeader(action, contentLength: contentLength, sequence: sequence, acknowledged: acknowledged, suffix: suffix, into: &output)
            },
            into: &out,
            maximumContentLength: { arguments.maximumActionContentLength() }
        ) { output in
            arguments.writeActionContent(into: &output)
        }
    }
}

extension FrameWriter {
    /// Appends a value response (3.4) whose value is the JSON text `valueText`
    /// (encoded straight from an `Encodable`): the bytes are those of
    /// ``writeResponse(_:id:value:into:)`` for the value the text holds.
    /// - Parameters:
    ///   - requestedValue: copied from the request.
    ///   - id: copied from the request, exactly as received.
    ///   - valueText: the answer's JSON text.
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError``.
    package func writeResponse(_ requestedValue: String, id: JSONValue, valueText: ByteBuffer, into out: inout ByteBuffer) throws(FrameEncodingError) {
        let suffix = headerSuffix
        try valueText.withUnsafeReadableBytes { text throws(FrameEncodingError) in
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
                maximumContentLength: { 12 + text.count }
            ) { output in
                output.write("{\"value\": ")
                output.write(bytes: text)
                output.write(byte: UInt8(ascii: "}"))
            }
        }
    }
}

extension FrameWriter {
    /// Appends a request (3.3) whose arguments are the JSON text `encoded`
    /// (encoded straight from an `Encodable`): the bytes are those of
    /// ``writeRequest(_:id:args:kwargs:into:)`` for the values the text holds.
    /// - Parameters:
    ///   - requestedValue: the name of the value asked for.
    ///   - id: the request id.
    ///   - encoded: the arguments' text (an object: `kwargs`; an array: `args`).
    ///   - out: the buffer to append to.
    /// - Throws: ``FrameEncodingError``.
    package func writeRequest(_ requestedValue: String, id: JSONValue, encoded: EncodedArguments, into out: inout ByteBuffer) throws(FrameEncodingError) {
        let suffix = headerSuffix
        try encoded.text.withUnsafeReadableBytes { text throws(FrameEncodingError) in
            try Self.writeJSONFrame(
                maximumHeaderLength: Self.plainHeaderLength + (suffix?.count ?? 0),
                header: { output, contentLength in Self.writeRequestHeader(contentLength: contentLength, suffix: suffix, into: &output) },
                into: &out,
                maximumContentLength: {
                    72 + JSONWriter.maximumLength(of: requestedValue) + JSONWriter.maximumLength(of: id) + text.count
                }
            ) { output in
                Self.writeRequestContentStart(requestedValue, id: id, into: &output)
                if encoded.isObject {
                    output.write(", \"args\": [], \"kwargs\": ")
                    output.write(bytes: text)
                } else {
                    output.write(", \"args\": ")
                    output.write(bytes: text)
                    output.write(", \"kwargs\": {}")
                }
                output.write(byte: UInt8(ascii: "}"))
            }
        }
    }
}
