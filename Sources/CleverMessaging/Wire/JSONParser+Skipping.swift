// Validating a value without building it.
extension JSONParser {
    /// Checks that `bytes` hold one complete JSON text, with the same limits
    /// and the same errors as ``parse(_:limits:)``, without building its value.
    /// - Parameters:
    ///   - bytes: the UTF-8 text.
    ///   - limits: nesting and integer limits.
    /// - Throws: ``JSONParsingError`` when the text is not one valid value.
    static func validate(_ bytes: UnsafeRawBufferPointer, limits: JSONParsingLimits) throws(JSONParsingError) {
        var parser = JSONParser(bytes: bytes, limits: limits)
        try parser.skipValue()
        try parser.expectEnd()
    }

    /// Moves past one value at the current position, accepting and refusing
    /// exactly what ``parseValue()`` does, but building only scalars (and the
    /// few strings whose UTF-8 must be checked or that hold escapes).
    mutating func skipValue() throws(JSONParsingError) {
        let byte = try peekNonWhitespace()
        switch byte {
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "{"):
            try enterContainer()
            index += 1
            if try peekNonWhitespace() == UInt8(ascii: "}") {
                index += 1
                depth -= 1
                return
            }
            repeat {
                let quote = try peekNonWhitespace()
                guard quote == UInt8(ascii: "\"") else { throw .unexpectedByte(quote, offset: index) }
                try skipString()
                try expect(UInt8(ascii: ":"))
                try skipValue()
            } while try parseObjectSeparator()
            depth -= 1
        case UInt8(ascii: "["):
            try enterContainer()
            index += 1
            if try peekNonWhitespace() == UInt8(ascii: "]") {
                index += 1
                depth -= 1
                return
            }
            while true {
                try skipValue()
                let next = try peekNonWhitespace()
                index += 1
                if next == UInt8(ascii: ",") { continue }
                if next == UInt8(ascii: "]") { break }
                throw .unexpectedByte(next, offset: index - 1)
            }
            depth -= 1
        default:
            // A number or a literal: nothing on the heap (a long integer aside).
            _ = try parseValue()
        }
    }

    /// Moves past a string (the current byte is its quote), checking it as ``parseString()`` does.
    @inline(__always)
    mutating func skipString() throws(JSONParsingError) {
        let quoteOffset = index
        if let (range, ascii) = try scanPlainString() {
            if !ascii { _ = try makeString(range, ascii: false, quoteOffset: quoteOffset) }
            return
        }
        _ = try parseEscapedString(quoteOffset: quoteOffset)
    }
}
