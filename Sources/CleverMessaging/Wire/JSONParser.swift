/// Limits for ``JSONParser``.
public struct JSONParsingLimits: Sendable, Hashable {
    /// The deepest nesting of arrays and objects accepted. Default 512.
    public var maximumDepth: Int
    /// The most decimal digits an integer may have. Default 4300, the limit of
    /// Python's `int()` (longer ones make the reference fail too).
    public var maximumIntegerDigits: Int

    /// Creates limits.
    /// - Parameters:
    ///   - maximumDepth: the deepest nesting accepted (default 512).
    ///   - maximumIntegerDigits: the most digits an integer may have (default 4300).
    public init(maximumDepth: Int = 512, maximumIntegerDigits: Int = 4300) {
        self.maximumDepth = maximumDepth
        self.maximumIntegerDigits = maximumIntegerDigits
    }
}

/// A JSON parser for the Python dialect, reading straight from bytes.
///
/// It accepts what Python's `json.loads` accepts (strict mode): `NaN`,
/// `Infinity`, `-Infinity`, integers of any size, raw UTF-8 and `\uXXXX`
/// escapes with surrogate pairs. It refuses raw control characters in strings,
/// lone surrogates, invalid UTF-8 and nesting deeper than the limit, each with
/// a ``JSONParsingError`` naming the byte offset. It never recurses deeper than
/// ``JSONParsingLimits/maximumDepth``.
public struct JSONParser: ~Copyable {
    let bytes: UnsafeRawBufferPointer
    var index: Int
    let limits: JSONParsingLimits
    var depth: Int = 0
    /// Scratch space for strings with escapes, reused across strings.
    var scratch: [UInt8] = []

    /// Parses one complete JSON text (surrounding whitespace allowed).
    /// - Parameters:
    ///   - bytes: the UTF-8 text.
    ///   - limits: nesting and integer limits.
    /// - Returns: the value.
    /// - Throws: ``JSONParsingError`` when the text is not one valid value.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        limits: JSONParsingLimits = .init()
    ) throws(JSONParsingError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, limits: limits)
        let value = try parser.parseValue()
        try parser.expectEnd()
        return value
    }

    /// Parses one complete JSON text from a byte array.
    /// - Parameters:
    ///   - bytes: the UTF-8 text.
    ///   - limits: nesting and integer limits.
    /// - Returns: the value.
    /// - Throws: ``JSONParsingError`` when the text is not one valid value.
    public static func parse(
        _ bytes: some Sequence<UInt8>,
        limits: JSONParsingLimits = .init()
    ) throws(JSONParsingError) -> JSONValue {
        let array = Array(bytes)
        let result = array.withUnsafeBytes { raw in
            Result { () throws(JSONParsingError) in try parse(raw, limits: limits) }
        }
        return try result.get()
    }

    /// Parses one complete JSON text from a string.
    /// - Parameters:
    ///   - text: the JSON text.
    ///   - limits: nesting and integer limits.
    /// - Returns: the value.
    /// - Throws: ``JSONParsingError`` when the text is not one valid value.
    public static func parse(_ text: String, limits: JSONParsingLimits = .init()) throws(JSONParsingError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }

    init(bytes: UnsafeRawBufferPointer, limits: JSONParsingLimits) {
        self.bytes = bytes
        self.index = 0
        self.limits = limits
    }

    // MARK: - Primitives

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    /// Fails unless only whitespace is left.
    mutating func expectEnd() throws(JSONParsingError) {
        skipWhitespace()
        if index != bytes.count { throw .trailingData(offset: index) }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    mutating func peekNonWhitespace() throws(JSONParsingError) -> UInt8 {
        skipWhitespace()
        guard index < bytes.count else { throw .unexpectedEndOfInput(offset: index) }
        return bytes[index]
    }

    /// Skips whitespace and consumes `byte`, or throws.
    mutating func expect(_ byte: UInt8) throws(JSONParsingError) {
        let next = try peekNonWhitespace()
        guard next == byte else { throw .unexpectedByte(next, offset: index) }
        index += 1
    }

    /// Consumes `literal` exactly, or throws.
    mutating func expectLiteral(_ literal: StaticString) throws(JSONParsingError) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for i in 0..<count {
            guard index + i < bytes.count else { throw .unexpectedEndOfInput(offset: bytes.count) }
            guard bytes[index + i] == start[i] else { throw .unexpectedByte(bytes[index + i], offset: index + i) }
        }
        index += count
    }

    // MARK: - Values

    /// Parses one value at the current position.
    mutating func parseValue() throws(JSONParsingError) -> JSONValue {
        let byte = try peekNonWhitespace()
        switch byte {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "N"): try expectLiteral("NaN"); return .double(.nan)
        case UInt8(ascii: "I"): try expectLiteral("Infinity"); return .double(.infinity)
        case UInt8(ascii: "-"):
            if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "I") {
                try expectLiteral("-Infinity")
                return .double(-.infinity)
            }
            return try parseNumber()
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw .unexpectedByte(byte, offset: index)
        }
    }

    mutating func enterContainer() throws(JSONParsingError) {
        depth += 1
        if depth > limits.maximumDepth { throw .nestingTooDeep(limit: limits.maximumDepth, offset: index) }
    }

    mutating func parseArray() throws(JSONParsingError) -> JSONValue {
        try enterContainer()
        index += 1  // "["
        var elements: [JSONValue] = []
        if try peekNonWhitespace() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            let next = try peekNonWhitespace()
            index += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "]") { break }
            throw .unexpectedByte(next, offset: index - 1)
        }
        depth -= 1
        return .array(elements)
    }

    mutating func parseObject() throws(JSONParsingError) -> JSONValue {
        try enterContainer()
        index += 1  // "{"
        var object = JSONObject()
        if try peekNonWhitespace() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(object)
        }
        while true {
            let key = try parseKey()
            let value = try parseValue()
            object.updateValue(value, forKey: key)
            if try !parseObjectSeparator() { break }
        }
        depth -= 1
        return .object(object)
    }

    /// Parses `"key" :` and returns the key.
    mutating func parseKey() throws(JSONParsingError) -> String {
        let quote = try peekNonWhitespace()
        guard quote == UInt8(ascii: "\"") else { throw .unexpectedByte(quote, offset: index) }
        let key = try parseString()
        try expect(UInt8(ascii: ":"))
        return key
    }

    /// After a member: consumes `,` (returns `true`, more follow) or `}` (returns `false`).
    mutating func parseObjectSeparator() throws(JSONParsingError) -> Bool {
        let next = try peekNonWhitespace()
        index += 1
        if next == UInt8(ascii: ",") { return true }
        if next == UInt8(ascii: "}") { return false }
        throw .unexpectedByte(next, offset: index - 1)
    }

    // MARK: - Strings

    /// Scans a string that has no escapes; returns its byte range and whether
    /// it is pure ASCII, or `nil` (position unchanged) when it has escapes.
    mutating func scanPlainString() throws(JSONParsingError) -> (range: Range<Int>, ascii: Bool)? {
        let start = index + 1
        var i = start
        var high: UInt8 = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                index = i + 1
                return (start..<i, high < 0x80)
            }
            if b == UInt8(ascii: "\\") { return nil }
            if b < 0x20 { throw .controlCharacterInString(b, offset: i) }
            high |= b
            i += 1
        }
        throw .unexpectedEndOfInput(offset: bytes.count)
    }

    /// Makes a `String` from bytes of the input, validating UTF-8.
    func makeString(_ range: Range<Int>, ascii: Bool, quoteOffset: Int) throws(JSONParsingError) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        if ascii { return String(decoding: slice, as: UTF8.self) }
        guard let s = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8(offset: quoteOffset) }
        return s
    }

    /// Parses a string at the current position (which holds the opening quote).
    mutating func parseString() throws(JSONParsingError) -> String {
        let quoteOffset = index
        if let (range, ascii) = try scanPlainString() {
            return try makeString(range, ascii: ascii, quoteOffset: quoteOffset)
        }
        return try parseEscapedString(quoteOffset: quoteOffset)
    }

    mutating func parseEscapedString(quoteOffset: Int) throws(JSONParsingError) -> String {
        scratch.removeAll(keepingCapacity: true)
        index = quoteOffset + 1
        while index < bytes.count {
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                guard let s = String(validating: scratch, as: UTF8.self) else { throw .invalidUTF8(offset: quoteOffset) }
                return s
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                throw .controlCharacterInString(b, offset: index)
            default:
                scratch.append(b)
                index += 1
            }
        }
        throw .unexpectedEndOfInput(offset: bytes.count)
    }

    /// Parses one escape sequence (the current byte is the backslash) into `scratch`.
    mutating func parseEscape() throws(JSONParsingError) {
        let escapeOffset = index
        guard index + 1 < bytes.count else { throw .unexpectedEndOfInput(offset: bytes.count) }
        let c = bytes[index + 1]
        index += 2
        switch c {
        case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4(escapeOffset: escapeOffset)
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by \u and a low surrogate.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { throw .invalidEscape(offset: escapeOffset) }
                index += 2
                let low = try parseHex4(escapeOffset: escapeOffset)
                guard (0xDC00...0xDFFF).contains(low) else { throw .invalidEscape(offset: escapeOffset) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw .invalidEscape(offset: escapeOffset)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw .invalidEscape(offset: escapeOffset) }
            scratch.append(contentsOf: UTF8.encode(unicode)!)
        default:
            throw .invalidEscape(offset: escapeOffset)
        }
    }

    mutating func parseHex4(escapeOffset: Int) throws(JSONParsingError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw .unexpectedEndOfInput(offset: bytes.count) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b &- UInt8(ascii: "A") &+ 10
            default: throw .invalidEscape(offset: escapeOffset)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    // MARK: - Numbers

    /// Parses `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?` as Python does:
    /// an integer when there is neither fraction nor exponent, else a float.
    mutating func parseNumber() throws(JSONParsingError) -> JSONValue {
        let start = index
        var i = index
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        let digitsStart = i
        guard i < bytes.count else { throw .unexpectedEndOfInput(offset: i) }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[i]) {
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
        } else {
            throw .invalidNumber(offset: start)
        }
        let integerEnd = i
        var isFloat = false
        // Python's number pattern only takes the fraction/exponent when digits follow.
        if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "."), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i + 1]) {
            isFloat = true
            i += 1
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            var j = i + 1
            if j < bytes.count, bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-") { j += 1 }
            if j < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[j]) {
                isFloat = true
                while j < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[j]) { j += 1 }
                i = j
            }
        }
        index = i
        if isFloat {
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            guard let d = Double(text) else { throw .invalidNumber(offset: start) }
            return .double(d)
        }
        let digitCount = integerEnd - digitsStart
        if digitCount > limits.maximumIntegerDigits {
            throw .integerTooLong(digits: digitCount, limit: limits.maximumIntegerDigits, offset: start)
        }
        if digitCount <= 18 {
            var value = 0
            for k in digitsStart..<integerEnd { value = value &* 10 &+ Int(bytes[k] &- UInt8(ascii: "0")) }
            return .integer(negative ? -value : value)
        }
        var value = 0
        var overflow = false
        for k in digitsStart..<integerEnd {
            let digit = Int(bytes[k] &- UInt8(ascii: "0"))
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            if o1 || o2 { overflow = true; break }
            value = s
        }
        if !overflow { return .integer(value) }
        return .bigInteger(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<integerEnd]), as: UTF8.self))
    }
}
