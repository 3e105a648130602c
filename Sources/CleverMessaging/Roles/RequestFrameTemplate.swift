import NIOCore

/// A request frame encoded once, for a request asked of many links at once
/// (``RequestFanOut``): each link's copy differs only in the digits of its
/// request id, which are written over the template's.
///
/// The template is made by the link's own ``FrameWriter``, twice, with ids
/// of the same length made of different digits; where the two encodings
/// differ is where the id's digits go. So the bytes of every copy are exactly
/// what the writer makes for that id (the same header, the same content
/// length), whatever the writer's layout: the template needs no knowledge of it.
package struct RequestFrameTemplate: Sendable {
    /// The frame, with an id of ``idLength`` digits.
    package let bytes: ByteBuffer
    /// Where, in ``bytes``, the id's digits start.
    package let idOffset: Int
    /// How many digits the ids this template makes have (``RequestID/format(_:)`` of the number).
    package let idLength: Int

    /// Encodes `request` with `writer` for ids of `idLength` digits.
    /// - Returns: the template, or `nil` when the two encodings do not differ
    ///   in exactly one run of `idLength` bytes (then each frame is encoded on its own).
    /// - Throws: ``FrameEncodingError`` when the request cannot be encoded.
    /// - Parameter encoded: the arguments as JSON text, when they are (then `args` and `kwargs` are not read).
    package init?(
        writer: inout FrameWriter, requestedValue: String, args: [JSONValue], kwargs: JSONObject, encoded: EncodedArguments? = nil, idLength: Int
    ) throws(FrameEncodingError) {
        guard idLength >= 4 else { return nil }
        var zeros = ByteBuffer()
        var ones = ByteBuffer()
        if let encoded {
            try writer.writeRequest(requestedValue, id: .string(String(repeating: "0", count: idLength)), encoded: encoded, into: &zeros)
            try writer.writeRequest(requestedValue, id: .string(String(repeating: "1", count: idLength)), encoded: encoded, into: &ones)
        } else {
            try writer.writeRequest(
                requestedValue, id: .string(String(repeating: "0", count: idLength)), args: args, kwargs: kwargs, into: &zeros
            )
            try writer.writeRequest(
                requestedValue, id: .string(String(repeating: "1", count: idLength)), args: args, kwargs: kwargs, into: &ones
            )
        }
        guard zeros.readableBytes == ones.readableBytes else { return nil }
        let offset = zeros.readableBytesView.withUnsafeBytes { a in
            ones.readableBytesView.withUnsafeBytes { b -> Int? in
                guard let first = a.indices.first(where: { a[$0] != b[$0] }) else { return nil }
                // Exactly `idLength` bytes differ, in one run, all the digit 0 in one and 1 in the other.
                guard first + idLength <= a.count,
                    (first..<first + idLength).allSatisfy({ a[$0] == UInt8(ascii: "0") && b[$0] == UInt8(ascii: "1") }),
                    !a[(first + idLength)...].indices.contains(where: { a[$0] != b[$0] })
                else { return nil }
                return first
            }
        }
        guard let offset else { return nil }
        self.bytes = zeros
        self.idOffset = offset
        self.idLength = idLength
    }

    /// How many digits the id of request `number` has (see ``RequestID/format(_:)``).
    package static func idLength(of number: Int) -> Int {
        var digits = 1
        var rest = number / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return max(digits, 4)
    }

    /// Appends the frame of request `number` to `out`: the bytes the writer
    /// makes for the id ``RequestID/format(_:)`` of `number`.
    /// - Precondition: `number` is not negative and its id has ``idLength`` digits.
    package func write(number: Int, into out: inout ByteBuffer) {
        let start = out.writerIndex
        out.writeImmutableBuffer(bytes)
        var rest = number
        var index = start + idOffset + idLength - 1
        while index >= start + idOffset {
            out.setInteger(UInt8(ascii: "0") + UInt8(rest % 10), at: index)
            rest /= 10
            index -= 1
        }
    }
}

/// The templates of one fan-out's request, one per kind of writer (whether
/// links announce this library's extensions) and id length, made as links
/// need them.
package struct RequestFrameTemplates: Sendable {
    private var templates: [(announces: Bool, template: RequestFrameTemplate)] = []
    /// The (writer kind, id length) pairs for which no template could be made.
    private var refused: [(announces: Bool, idLength: Int)] = []

    /// No templates yet.
    package init() {}

    /// Appends the frame of request `number` of `request` to `out`, from a
    /// template when there is one for this writer kind and id length (made
    /// now, with `writer`, when missing), else encoded by `writer` as usual.
    /// - Parameter announces: the kind of `writer` (it writes the extensions' marker).
    /// - Throws: ``FrameEncodingError`` when the request cannot be encoded.
    package mutating func write(
        _ request: PendingRequests.Entry.Request, number: Int, writer: inout FrameWriter, announces: Bool, into out: inout ByteBuffer
    ) throws(FrameEncodingError) {
        let length = RequestFrameTemplate.idLength(of: number)
        if let found = templates.first(where: { $0.announces == announces && $0.template.idLength == length }) {
            found.template.write(number: number, into: &out)
            return
        }
        if !refused.contains(where: { $0.announces == announces && $0.idLength == length }) {
            if let made = try RequestFrameTemplate(
                writer: &writer, requestedValue: request.requestedValue, args: request.args, kwargs: request.kwargs,
                encoded: request.encoded, idLength: length
            ) {
                templates.append((announces, made))
                made.write(number: number, into: &out)
                return
            }
            refused.append((announces, length))
        }
        try request.write(id: RequestID.format(number), writer: &writer, into: &out)
    }
}
