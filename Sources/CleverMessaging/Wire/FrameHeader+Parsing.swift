extension FrameHeader {
    /// Reads a header from its JSON bytes.
    ///
    /// Known keys are matched on their bytes without allocating; unknown keys
    /// go to ``extra``. A repeated key keeps its last value, as in Python.
    /// - Parameters:
    ///   - bytes: the header's JSON text.
    ///   - limits: JSON limits.
    /// - Returns: the header.
    /// - Throws: ``FrameDecodingError`` naming what is wrong.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        limits: JSONParsingLimits = .init()
    ) throws(FrameDecodingError) -> FrameHeader {
        if let header = parseLibraryLayout(bytes, limits: limits) { return header }
        var parser = JSONParser(bytes: bytes, limits: limits)
        return try parser.parseFrameHeader()
    }

    /// Whether JSON content in `contentEncoding` can be read (UTF-8 and its ASCII subset).
    var hasReadableTextEncoding: Bool {
        if contentEncoding == "utf-8" { return true }
        switch contentEncoding.lowercased() {
        case "utf-8", "utf8", "utf_8", "ascii", "us-ascii": return true
        default: return false
        }
    }
}

/// What is known of a header as it is read, besides the typed fields filled
/// in place in a ``FrameHeader``. Values are judged only once the whole
/// header is read, so a repeated key counts by its last value alone, as in Python.
struct FrameHeaderFields {
    /// One bit per ``HeaderKey/index`` whose last value was valid and is in the header.
    var valid: UInt16 = 0
    /// Keys whose last value was invalid, with that value (rare).
    var invalid: [(key: HeaderKey, value: JSONValue)] = []

    /// The bits of the five required keys.
    static let requiredKeys: UInt16 = 0b1_1111

    /// Records that the last value of `key` is valid and stored in the header.
    @inline(__always)
    mutating func accept(_ key: HeaderKey) {
        valid |= 1 << UInt16(key.index)
        if !invalid.isEmpty { invalid.removeAll { $0.key == key } }
    }

    /// Records that the last value of `key` is `value`, which is not valid for it.
    mutating func reject(_ key: HeaderKey, _ value: JSONValue) {
        valid &= ~(1 << UInt16(key.index))
        invalid.removeAll { $0.key == key }
        invalid.append((key, value))
    }

    /// Stores the string value of a string-valued key in `header`.
    mutating func set(_ key: HeaderKey, string: String, in header: inout FrameHeader) {
        switch key {
        case .byteOrder:
            guard let byteOrder = FrameHeader.ByteOrder(rawValue: string) else { return reject(key, .string(string)) }
            header.byteOrder = byteOrder
        case .contentType: header.contentType = FrameHeader.ContentType(rawValue: string)
        case .contentEncoding: header.contentEncoding = string
        case .messageType: header.messageType = FrameHeader.MessageType(rawValue: string)
        case .action: header.action = string
        case .filePath: header.filePath = string
        case .requestedValue: header.requestedValue = string
        case .contentLength, .requestID: return set(key, value: .string(string), in: &header)
        }
        accept(key)
    }

    /// Stores a value of any type for `key` in `header`.
    mutating func set(_ key: HeaderKey, value: JSONValue, in header: inout FrameHeader) {
        switch key {
        case .contentLength:
            guard case .integer(let length) = value, length >= 0 else { return reject(key, value) }
            header.contentLength = length
        case .requestID:
            header.requestID = value
        default:
            guard case .string(let string) = value else { return reject(key, value) }
            return set(key, string: string, in: &header)
        }
        accept(key)
    }

    /// Throws the error for the first key (in the reference's order) that is
    /// missing or invalid, if any.
    func check() throws(FrameDecodingError) {
        if invalid.isEmpty, valid & Self.requiredKeys == Self.requiredKeys { return }
        for key in HeaderKey.allCases {
            if let value = invalid.first(where: { $0.key == key })?.value {
                switch key {
                case .byteOrder:
                    if case .string = value {
                        throw .invalidHeaderValue(key: key.rawValue, value: value, expected: "\"little\" or \"big\"")
                    }
                    throw .invalidHeaderValue(key: key.rawValue, value: value, expected: "a string")
                case .contentLength:
                    throw .invalidContentLength(value)
                default:
                    throw .invalidHeaderValue(key: key.rawValue, value: value, expected: "a string")
                }
            }
            if key.index < 5, valid & (1 << UInt16(key.index)) == 0 { throw .missingRequiredKey(key.rawValue) }
        }
    }
}

extension JSONParser {
    /// Parses a whole frame header (the input holds nothing else).
    mutating func parseFrameHeader() throws(FrameDecodingError) -> FrameHeader {
        // Placeholders for the required fields, filled in place.
        var header = FrameHeader(
            byteOrder: .little,
            contentType: .json,
            contentEncoding: "",
            messageType: .message,
            extra: JSONObject()
        )
        var fields = FrameHeaderFields()
        var isObject = true
        do throws(JSONParsingError) {
            let first = try peekNonWhitespace()
            if first != UInt8(ascii: "{") {
                // Tell "valid JSON but not an object" apart from garbage.
                _ = try parseValue()
                isObject = false
            } else {
                try enterContainer()
                var more: Bool
                if bytes(index..<min(count, index + Self.canonicalHeaderStart.utf8CodeUnitCount), equal: Self.canonicalHeaderStart) {
                    // The reference's own layout: three members known at once,
                    // then the value of content-length.
                    index += Self.canonicalHeaderStart.utf8CodeUnitCount
                    header.byteOrder = .little
                    header.contentType = .json
                    header.contentEncoding = "utf-8"
                    fields.accept(.byteOrder)
                    fields.accept(.contentType)
                    fields.accept(.contentEncoding)
                    try parseHeaderValue(for: .contentLength, into: &header, fields: &fields)
                    more = try parseObjectSeparator()
                } else {
                    index += 1
                    more = try peekNonWhitespace() != UInt8(ascii: "}")
                    if !more { index += 1 }
                }
                while more {
                    switch try parseHeaderKey() {
                    case .known(let known):
                        try parseHeaderValue(for: known, into: &header, fields: &fields)
                    case .delivery(let key):
                        header.setDelivery(key, try parseValue())
                    case .other(let unknown):
                        let value = try parseValue()
                        if header.extra.isEmpty, unknown == ExtensionHeader.capabilities, value == Self.markerOnly.values[0] {
                            // A lone marker key (`"x-clever": 1` on every frame of this
                            // library): share one storage instead of allocating per frame.
                            header.extra = Self.markerOnly
                        } else {
                            header.extra.updateValue(value, forKey: unknown)
                        }
                    }
                    more = try parseObjectSeparator()
                }
                depth -= 1
            }
            try expectEnd()
        } catch {
            throw .headerNotJSON(error)
        }
        guard isObject else { throw .headerNotObject }
        try fields.check()
        return header
    }

    /// How the reference starts the header of a JSON frame on a little-endian
    /// host, up to the value of `content-length`.
    /// The extras of every header this library sends (`"x-clever": 1`), made
    /// once so that decoding such a header shares its storage instead of
    /// allocating a dictionary per frame.
    static let markerOnly: JSONObject = [ExtensionHeader.capabilities: 1]

    static let canonicalHeaderStart: StaticString =
        #"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": "#

    /// Parses the value of a known header key into `header`, matching the
    /// common values on their bytes without making a `String`.
    mutating func parseHeaderValue(
        for key: HeaderKey,
        into header: inout FrameHeader,
        fields: inout FrameHeaderFields
    ) throws(JSONParsingError) {
        switch key {
        case .contentLength, .requestID:
            fields.set(key, value: try parseValue(), in: &header)
            return
        default:
            break
        }
        let quoteOffset = try peekNonWhitespace() == UInt8(ascii: "\"") ? index : -1
        guard quoteOffset >= 0, let (range, ascii) = try scanPlainString() else {
            // Not a string, or a string with escapes.
            fields.set(key, value: try parseValue(), in: &header)
            return
        }
        switch key {
        case .byteOrder:
            if bytes(range, equal: "little") {
                header.byteOrder = .little
                return fields.accept(key)
            }
            if bytes(range, equal: "big") {
                header.byteOrder = .big
                return fields.accept(key)
            }
        case .contentType:
            if bytes(range, equal: "json") {
                header.contentType = .json
                return fields.accept(key)
            }
            if bytes(range, equal: "binary") {
                header.contentType = .binary
                return fields.accept(key)
            }
        case .contentEncoding:
            if bytes(range, equal: "utf-8") {
                header.contentEncoding = "utf-8"
                return fields.accept(key)
            }
        case .messageType:
            if bytes(range, equal: "message") {
                header.messageType = .message
                return fields.accept(key)
            }
            if bytes(range, equal: "request") {
                header.messageType = .request
                return fields.accept(key)
            }
            if bytes(range, equal: "response") {
                header.messageType = .response
                return fields.accept(key)
            }
        default:
            break
        }
        fields.set(key, string: try makeString(range, ascii: ascii, quoteOffset: quoteOffset), in: &header)
    }

    /// A header key as ``parseHeaderKey()`` reads it.
    enum ParsedHeaderKey {
        /// A key with a field of its own in ``FrameHeader``.
        case known(HeaderKey)
        /// A key of acknowledged delivery.
        case delivery(DeliveryHeaderKey)
        /// Any other key: its text.
        case other(String)
    }

    /// Parses `"key" :` and returns the known key it names, or else the key text.
    mutating func parseHeaderKey() throws(JSONParsingError) -> ParsedHeaderKey {
        let quote = try peekNonWhitespace()
        guard quote == UInt8(ascii: "\"") else { throw .unexpectedByte(quote, offset: index) }
        let quoteOffset = index
        let result: ParsedHeaderKey
        if let (range, ascii) = try scanPlainString() {
            let bytes = slice(range)
            if let known = HeaderKey.match(bytes) {
                result = .known(known)
            } else if let delivery = DeliveryHeaderKey.match(bytes) {
                result = .delivery(delivery)
            } else {
                result = .other(try makeString(range, ascii: ascii, quoteOffset: quoteOffset))
            }
        } else {
            let key = try parseEscapedString(quoteOffset: quoteOffset)
            result = HeaderKey(rawValue: key).map(ParsedHeaderKey.known)
                ?? DeliveryHeaderKey(name: key).map(ParsedHeaderKey.delivery) ?? .other(key)
        }
        try expect(UInt8(ascii: ":"))
        return result
    }
}
