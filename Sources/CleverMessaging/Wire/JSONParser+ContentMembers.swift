#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
        var keys = ContiguousArray<String>()
        return try parseContentMembers(bytes, limits: limits, kwargsKeys: &keys)
    }

    /// Parses one complete content text into the members a connection reads,
    /// reusing the keys of the previous `kwargs` object when this one has the same.
    ///
    /// Accepts and refuses exactly what `JSONParser.parse(_:limits:)` does,
    /// with the same errors, and makes the same members whatever `kwargsKeys` holds.
    /// - Parameters:
    ///   - bytes: the content's UTF-8 text.
    ///   - limits: nesting and integer limits.
    ///   - kwargsKeys: the keys of the last `kwargs` object read (distinct, in
    ///     order), updated to this one's; start with an empty array.
    /// - Returns: the members.
    /// - Throws: ``JSONParsingError`` when the text is not one valid value.
    @inline(__always)
    static func parseContentMembers(
        _ bytes: UnsafeRawBufferPointer,
        limits: JSONParsingLimits,
        kwargsKeys: inout ContiguousArray<String>
    ) throws(JSONParsingError) -> ContentMembers {
        try withParser(bytes, limits: limits) { (parser) throws(JSONParsingError) -> ContentMembers in
            let members = try parser.parseContentMembers(kwargsKeys: &kwargsKeys)
            try parser.expectEnd()
            return members
        }
    }

    /// Parses content into its members, keeping the `kwargs` object as text
    /// when `keepsText` says so (for a handler that decodes its arguments itself).
    /// - Parameters:
    ///   - bytes: the content's UTF-8 text.
    ///   - limits: nesting and integer limits.
    ///   - kwargsKeys: as for ``parseContentMembers(_:limits:kwargsKeys:)``.
    ///   - textRange: set to where the text of the `kwargs` object is in `bytes`
    ///     when it was kept as text (then the members' `kwargs` are empty).
    ///   - keepsText: asked when a `kwargs` object comes, with the
    ///     `requested_value` read so far: whether it is checked and its place kept instead of being built.
    /// - Returns: the members.
    /// - Throws: ``JSONParsingError`` when the text is not one valid value.
    static func parseContentMembers(
        _ bytes: UnsafeRawBufferPointer,
        limits: JSONParsingLimits,
        kwargsKeys: inout ContiguousArray<String>,
        textRange: inout Range<Int>?,
        keepsText: (JSONValue?) -> Bool
    ) throws(JSONParsingError) -> ContentMembers {
        try withParser(bytes, limits: limits) { (parser) throws(JSONParsingError) -> ContentMembers in
            let members = try parser.parseMembers { (parser, member, members) throws(JSONParsingError) -> JSONValue in
                guard member == .kwargs, try parser.peekNonWhitespace() == UInt8(ascii: "{") else {
                    if member == .kwargs { textRange = nil }  // A repeated key counts by its last value.
                    return try parser.parseValue()
                }
                guard keepsText(members.requestedValue) else {
                    textRange = nil
                    return try parser.parseObject(reusingKeys: &kwargsKeys)
                }
                let start = parser.index
                try parser.skipValue()
                textRange = start..<parser.index
                return .object([:])
            }
            try parser.expectEnd()
            return members
        }
    }

    /// Parses a response's content into its members, keeping the `value` as
    /// text (checked in full, never built) for a request that asked for a typed reply.
    ///
    /// Accepts and refuses exactly what `JSONParser.parse(_:limits:)` does, with the same errors.
    /// - Parameters:
    ///   - bytes: the content's UTF-8 text.
    ///   - limits: nesting and integer limits.
    ///   - valueRange: set to where the text of the (last) `value` member is in
    ///     `bytes`, if there is one (the members' ``ContentMembers/value`` is then a placeholder).
    /// - Returns: the members.
    /// - Throws: ``JSONParsingError`` when the text is not one valid value.
    static func parseResponseMembers(
        _ bytes: UnsafeRawBufferPointer,
        limits: JSONParsingLimits,
        valueRange: inout Range<Int>?
    ) throws(JSONParsingError) -> ContentMembers {
        try withParser(bytes, limits: limits) { (parser) throws(JSONParsingError) -> ContentMembers in
            let members = try parser.parseMembers { (parser, member, _) throws(JSONParsingError) -> JSONValue in
                guard member == .value else { return try parser.parseValue() }
                _ = try parser.peekNonWhitespace()
                let start = parser.index
                try parser.skipValue()
                valueRange = start..<parser.index
                return .null
            }
            try parser.expectEnd()
            return members
        }
    }

    /// Parses one value at the current position into content members.
    ///
    /// The read loop's own copy of ``parseMembers(_:)``: specialised by hand,
    /// because the generic form costs every frame a copy of its members.
    mutating func parseContentMembers(kwargsKeys: inout ContiguousArray<String>) throws(JSONParsingError) -> ContentMembers {
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
            let value: JSONValue
            if member == .kwargs, try peekNonWhitespace() == UInt8(ascii: "{") {
                value = try parseObject(reusingKeys: &kwargsKeys)
            } else {
                value = try parseValue()
            }
            if let member { members.set(member, value) }
        } while try parseObjectSeparator()
        depth -= 1
        return members
    }

    /// Parses one value at the current position into content members, each
    /// member's value read by `value` (given the members read so far).
    mutating func parseMembers(
        value: (inout JSONParser, ContentMembers.Member?, ContentMembers) throws(JSONParsingError) -> JSONValue
    ) throws(JSONParsingError) -> ContentMembers {
        var members = ContentMembers()
        guard try peekNonWhitespace() == UInt8(ascii: "{") else {
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
            let parsed = try value(&self, member, members)
            if let member { members.set(member, parsed) }
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

extension JSONParser {
    /// Parses an object (the current byte is its `{`) exactly as `parseObject()`
    /// does, but when its keys are `reusedKeys`, in the same order, the object
    /// shares that array instead of building its keys again: a peer that sends
    /// the same action over and over sends the same `kwargs` keys each time.
    /// Otherwise `reusedKeys` becomes this object's keys (when they are few and distinct).
    ///
    /// A key is the cached one when its text has no escapes and its bytes are
    /// the cached string's UTF-8, which is exactly when `parseString()` would
    /// make an equal string from it; the errors thrown are those of `parseObject()`.
    mutating func parseObject(reusingKeys reusedKeys: inout ContiguousArray<String>) throws(JSONParsingError) -> JSONValue {
        try enterContainer()
        index += 1  // "{"
        if try peekNonWhitespace() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(JSONObject())
        }
        let keyStart = keys.count
        let valueStart = values.count
        // The leading keys equal to `reusedKeys`, not pushed on `keys` while `following`.
        var matched = 0
        var following = !reusedKeys.isEmpty
        while true {
            let quote = try peekNonWhitespace()
            guard quote == UInt8(ascii: "\"") else { throw .unexpectedByte(quote, offset: index) }
            let quoteOffset = index
            if let (range, ascii) = try scanPlainString() {
                if following, matched < reusedKeys.count, Self.utf8(of: reusedKeys[matched], equals: slice(range)) {
                    matched += 1
                } else {
                    if following {
                        following = false
                        for k in 0..<matched { keys.push(reusedKeys[k]) }
                    }
                    keys.push(try makeString(range, ascii: ascii, quoteOffset: quoteOffset))
                }
            } else {
                if following {
                    following = false
                    for k in 0..<matched { keys.push(reusedKeys[k]) }
                }
                keys.push(try parseEscapedString(quoteOffset: quoteOffset))
            }
            try expect(UInt8(ascii: ":"))
            values.push(try parseValue())
            if try !parseObjectSeparator() { break }
        }
        depth -= 1
        if following {
            if matched == reusedKeys.count {
                // The same keys, so distinct: shared, not built.
                let objectValues = values.popContiguousArray(from: valueStart)
                return .object(JSONObject(uncheckedUniqueKeys: reusedKeys, values: objectValues))
            }
            for k in 0..<matched { keys.push(reusedKeys[k]) }
        }
        let memberCount = keys.count - keyStart
        if memberCount <= 16, !keysRepeat(from: keyStart) {
            let objectKeys = keys.popContiguousArray(from: keyStart)
            let objectValues = values.popContiguousArray(from: valueStart)
            reusedKeys = objectKeys
            return .object(JSONObject(uncheckedUniqueKeys: objectKeys, values: objectValues))
        }
        return .object(popObject(keyStart: keyStart, valueStart: valueStart))
    }

    /// Whether the UTF-8 of `string` is the bytes `text`.
    @inline(__always)
    static func utf8(of string: String, equals text: UnsafeRawBufferPointer) -> Bool {
        let utf8 = string.utf8
        guard utf8.count == text.count else { return false }
        if text.isEmpty { return true }
        let equal: Bool? = utf8.withContiguousStorageIfAvailable { stored in
            memcmp(stored.baseAddress!, text.baseAddress!, text.count) == 0
        }
        return equal ?? utf8.elementsEqual(text)
    }
}
