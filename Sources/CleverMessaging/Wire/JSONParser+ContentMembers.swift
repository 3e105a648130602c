extension JSONParser {
    /// Parses one complete content text into the members a connection reads.
    ///
    /// Accepts and refuses exactly what `JSONParser.parse(_:limits:)` does,
    /// with the same errors; only the outer object is not built.
    /// - Parameters:
    ///   - bytes: the content's UTF-8 text.
    ///   - limits: nesting and integer limits.
    /// - Returns: the members.
    /// - Throws: ``JSONParsingError`` when the text is not one valid value.
    static func parseContentMembers(
        _ bytes: UnsafeRawBufferPointer,
        limits: JSONParsingLimits
    ) throws(JSONParsingError) -> ContentMembers {
        try withParser(bytes, limits: limits) { (parser) throws(JSONParsingError) -> ContentMembers in
            let members = try parser.parseContentMembers()
            try parser.expectEnd()
            return members
        }
    }

    /// Parses one value at the current position into content members.
    mutating func parseContentMembers() throws(JSONParsingError) -> ContentMembers {
        var members = ContentMembers()
        guard try peekNonWhitespace() == UInt8(ascii: "{") else {
            // Not an object: validated, no members.
            _ = try parseValue()
            return members
        }
        try enterContainer()
        index += 1  // "{"
        if try peekNonWhitespace() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return members
        }
        repeat {
            let member = try parseMemberKey()
            let value = try parseValue()
            if let member { members.set(member, value) }
        } while try parseObjectSeparator()
        depth -= 1
        return members
    }

    /// Parses `"key" :` and returns the member it names, if one that is kept;
    /// other keys are validated and dropped.
    @inline(__always)
    mutating func parseMemberKey() throws(JSONParsingError) -> ContentMembers.Member? {
        let quote = try peekNonWhitespace()
        guard quote == UInt8(ascii: "\"") else { throw .unexpectedByte(quote, offset: index) }
        let quoteOffset = index
        let member: ContentMembers.Member?
        if let (range, ascii) = try scanPlainString() {
            member = ContentMembers.Member.match(slice(range))
            if member == nil, !ascii {
                // Dropped, but its UTF-8 must be valid all the same.
                _ = try makeString(range, ascii: false, quoteOffset: quoteOffset)
            }
        } else {
            member = ContentMembers.Member(rawValue: try parseEscapedString(quoteOffset: quoteOffset))
        }
        try expect(UInt8(ascii: ":"))
        return member
    }
}
