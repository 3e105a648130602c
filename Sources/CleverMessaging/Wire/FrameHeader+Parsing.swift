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
                        fields.set(known, value)
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

    /// Header fields as they are read. Values are kept raw and judged only
    /// once the whole header is read, so a repeated key counts by its last
    /// value alone, as in Python.
    private struct Fields {
        var known: [JSONValue?] = Array(repeating: nil, count: HeaderKey.allCases.count)
        var extra: JSONObject = [:]

        mutating func set(_ key: HeaderKey, _ value: JSONValue) {
            known[key.index] = value
        }

        func string(_ key: HeaderKey) throws(FrameDecodingError) -> String? {
            guard let value = known[key.index] else { return nil }
            guard case .string(let s) = value else {
                throw .invalidHeaderValue(key: key.rawValue, value: value, expected: "a string")
            }
            return s
        }

        func required(_ key: HeaderKey) throws(FrameDecodingError) -> String {
            guard let s = try string(key) else { throw .missingRequiredKey(key.rawValue) }
            return s
        }

        func makeHeader() throws(FrameDecodingError) -> FrameHeader {
            let byteOrderText = try required(.byteOrder)
            guard let byteOrder = ByteOrder(rawValue: byteOrderText) else {
                throw .invalidHeaderValue(
                    key: HeaderKey.byteOrder.rawValue,
                    value: .string(byteOrderText),
                    expected: "\"little\" or \"big\""
                )
            }
            let contentType = ContentType(rawValue: try required(.contentType))
            let contentEncoding = try required(.contentEncoding)
            guard let lengthValue = known[HeaderKey.contentLength.index] else {
                throw .missingRequiredKey(HeaderKey.contentLength.rawValue)
            }
            guard case .integer(let contentLength) = lengthValue, contentLength >= 0 else {
                throw .invalidContentLength(lengthValue)
            }
            let messageType = MessageType(rawValue: try required(.messageType))
            return FrameHeader(
                byteOrder: byteOrder,
                contentType: contentType,
                contentEncoding: contentEncoding,
                contentLength: contentLength,
                messageType: messageType,
                action: try string(.action),
                filePath: try string(.filePath),
                requestedValue: try string(.requestedValue),
                requestID: known[HeaderKey.requestID.index],
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
