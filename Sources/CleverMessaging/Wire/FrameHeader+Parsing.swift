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
        var fields = Fields()
        var parser = JSONParser(bytes: bytes, limits: limits)
        do {
            let first = try parser.peekNonWhitespace()
            guard first == UInt8(ascii: "{") else {
                // Tell "valid JSON but not an object" apart from garbage.
                _ = try parser.parseValue()
                try parser.expectEnd()
                throw FrameDecodingError.headerNotObject
            }
            try parser.enterContainer()
            parser.index += 1
            if try parser.peekNonWhitespace() == UInt8(ascii: "}") {
                parser.index += 1
            } else {
                repeat {
                    let (known, unknown) = try parser.parseHeaderKey()
                    let value = try parser.parseValue()
                    if let known {
                        try fields.set(known, value)
                    } else if let unknown {
                        fields.extra.updateValue(value, forKey: unknown)
                    }
                } while try parser.parseObjectSeparator()
            }
            parser.depth -= 1
            try parser.expectEnd()
        } catch let error as JSONParsingError {
            throw .headerNotJSON(error)
        } catch let error as FrameDecodingError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
        return try fields.makeHeader()
    }

    /// Header fields as they are read, before the required ones are checked.
    private struct Fields {
        var byteOrder: ByteOrder?
        var contentType: ContentType?
        var contentEncoding: String?
        var contentLength: Int?
        var messageType: MessageType?
        var action: String?
        var filePath: String?
        var requestedValue: String?
        var requestID: JSONValue?
        var extra: JSONObject = [:]

        mutating func set(_ key: HeaderKey, _ value: JSONValue) throws(FrameDecodingError) {
            func string() throws(FrameDecodingError) -> String {
                guard case .string(let s) = value else {
                    throw .invalidHeaderValue(key: key.rawValue, value: value, expected: "a string")
                }
                return s
            }
            switch key {
            case .byteOrder:
                guard let order = ByteOrder(rawValue: try string()) else {
                    throw .invalidHeaderValue(key: key.rawValue, value: value, expected: "\"little\" or \"big\"")
                }
                byteOrder = order
            case .contentType: contentType = ContentType(rawValue: try string())
            case .contentEncoding: contentEncoding = try string()
            case .contentLength:
                guard case .integer(let n) = value, n >= 0 else { throw .invalidContentLength(value) }
                contentLength = n
            case .messageType: messageType = MessageType(rawValue: try string())
            case .action: action = try string()
            case .filePath: filePath = try string()
            case .requestedValue: requestedValue = try string()
            case .requestID: requestID = value
            }
        }

        func makeHeader() throws(FrameDecodingError) -> FrameHeader {
            guard let byteOrder else { throw .missingRequiredKey(HeaderKey.byteOrder.rawValue) }
            guard let contentType else { throw .missingRequiredKey(HeaderKey.contentType.rawValue) }
            guard let contentEncoding else { throw .missingRequiredKey(HeaderKey.contentEncoding.rawValue) }
            guard let contentLength else { throw .missingRequiredKey(HeaderKey.contentLength.rawValue) }
            guard let messageType else { throw .missingRequiredKey(HeaderKey.messageType.rawValue) }
            return FrameHeader(
                byteOrder: byteOrder,
                contentType: contentType,
                contentEncoding: contentEncoding,
                contentLength: contentLength,
                messageType: messageType,
                action: action,
                filePath: filePath,
                requestedValue: requestedValue,
                requestID: requestID,
                extra: extra
            )
        }
    }

    /// Whether JSON content in `contentEncoding` can be read (UTF-8 and its ASCII subset).
    var hasReadableTextEncoding: Bool {
        switch contentEncoding.lowercased() {
        case "utf-8", "utf8", "utf_8", "ascii", "us-ascii": return true
        default: return false
        }
    }
}

extension JSONParser {
    /// Parses `"key" :` and returns the known key it names, or else the key text.
    mutating func parseHeaderKey() throws(JSONParsingError) -> (HeaderKey?, String?) {
        let quote = try peekNonWhitespace()
        guard quote == UInt8(ascii: "\"") else { throw .unexpectedByte(quote, offset: index) }
        let quoteOffset = index
        let result: (HeaderKey?, String?)
        if let (range, ascii) = try scanPlainString() {
            if let known = HeaderKey.match(UnsafeRawBufferPointer(rebasing: bytes[range])) {
                result = (known, nil)
            } else {
                result = (nil, try makeString(range, ascii: ascii, quoteOffset: quoteOffset))
            }
        } else {
            let key = try parseEscapedString(quoteOffset: quoteOffset)
            result = HeaderKey(rawValue: key).map { ($0, nil) } ?? (nil, key)
        }
        try expect(UInt8(ascii: ":"))
        return result
    }
}
