#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// The first byte of `bytes`; only ever read at offsets below `count`.
    let base: UnsafePointer<UInt8>
    /// `bytes.count`.
    let count: Int
    var index: Int
    let limits: JSONParsingLimits
    var depth: Int = 0
    /// Scratch space for strings with escapes, reused across strings.
    var scratch: [UInt8] = []
    /// Members of the arrays and objects being parsed.
    var values: JSONScratchStack<JSONValue>
    /// Keys of the objects being parsed.
    var keys: JSONScratchStack<String>

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
        try withParser(bytes, limits: limits) { (parser) throws(JSONParsingError) -> JSONValue in
            let value = try parser.parseValue()
            try parser.expectEnd()
            return value
        }
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

    /// Runs `body` with a parser over `bytes` whose scratch stacks start in
    /// temporary memory on the call stack.
    @inline(__always)
    static func withParser<R, E: Error>(
        _ bytes: UnsafeRawBufferPointer,
        limits: JSONParsingLimits,
        _ body: (inout JSONParser) throws(E) -> R
    ) throws(E) -> R {
        try withUnsafeTemporaryAllocation(of: JSONValue.self, capacity: 32) { (values) throws(E) -> R in
            try withUnsafeTemporaryAllocation(of: String.self, capacity: 16) { (keys) throws(E) -> R in
                var parser = JSONParser(bytes: bytes, limits: limits, values: values, keys: keys)
                return try body(&parser)
            }
        }
    }

    /// A valid address for an empty input, which has none of its own.
    static let emptyText: StaticString = ""

    /// Creates a parser whose stacks allocate when first needed (for texts
    /// that seldom hold arrays or objects, such as frame headers).
    init(bytes: UnsafeRawBufferPointer, limits: JSONParsingLimits) {
        self.bytes = bytes
        self.count = bytes.count
        // An empty buffer may have no address; any valid one does then, as
        // nothing is read from it.
        self.base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? Self.emptyText.utf8Start
        self.index = 0
        self.limits = limits
        self.values = JSONScratchStack()
        self.keys = JSONScratchStack()
    }

    /// Creates a parser whose stacks start in `values` and `keys`, which must outlive it.
    init(
        bytes: UnsafeRawBufferPointer,
        limits: JSONParsingLimits,
        values: UnsafeMutableBufferPointer<JSONValue>,
        keys: UnsafeMutableBufferPointer<String>
    ) {
        self.bytes = bytes
        self.count = bytes.count
        // An empty buffer may have no address; any valid one does then, as
        // nothing is read from it.
        self.base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? Self.emptyText.utf8Start
        self.index = 0
        self.limits = limits
        self.values = JSONScratchStack(in: values)
        self.keys = JSONScratchStack(in: keys)
    }

    // MARK: - Primitives

    /// Whether `byte` is an ASCII decimal digit.
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < count {
            switch base[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    /// Fails unless only whitespace is left.
    mutating func expectEnd() throws(JSONParsingError) {
        skipWhitespace()
        if index != count { throw .trailingData(offset: index) }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    @inline(__always)
    mutating func peekNonWhitespace() throws(JSONParsingError) -> UInt8 {
        skipWhitespace()
        guard index < count else { throw .unexpectedEndOfInput(offset: index) }
        return base[index]
    }

    /// Skips whitespace and consumes `byte`, or throws.
    @inline(__always)
    mutating func expect(_ byte: UInt8) throws(JSONParsingError) {
        let next = try peekNonWhitespace()
        guard next == byte else { throw .unexpectedByte(next, offset: index) }
        index += 1
    }

    /// Consumes `literal` exactly, or throws.
    mutating func expectLiteral(_ literal: StaticString) throws(JSONParsingError) {
        let length = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        if length <= count - index, memcmp(base + index, start, length) == 0 {
            index += length
            return
        }
        for i in 0..<length {
            guard index + i < count else { throw .unexpectedEndOfInput(offset: count) }
            guard base[index + i] == start[i] else { throw .unexpectedByte(base[index + i], offset: index + i) }
        }
        index += length
    }

    // MARK: - Values

    /// Parses one value at the current position.
    mutating func parseValue() throws(JSONParsingError) -> JSONValue {
        let byte = try peekNonWhitespace()
        switch byte {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "N"): try expectLiteral("NaN"); return .double(.nan)
        case UInt8(ascii: "I"): try expectLiteral("Infinity"); return .double(.infinity)
        case UInt8(ascii: "-"):
            if index + 1 < count, base[index + 1] == UInt8(ascii: "I") {
                try expectLiteral("-Infinity")
                return .double(-.infinity)
            }
            return try parseNumber()
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
        if try peekNonWhitespace() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array([])
        }
        let start = values.count
        while true {
            values.push(try parseValue())
            let next = try peekNonWhitespace()
            index += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "]") { break }
            throw .unexpectedByte(next, offset: index - 1)
        }
        depth -= 1
        return .array(values.popArray(from: start))
    }

    mutating func parseObject() throws(JSONParsingError) -> JSONValue {
        try enterContainer()
        index += 1  // "{"
        if try peekNonWhitespace() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(JSONObject())
        }
        let keyStart = keys.count
        let valueStart = values.count
        while true {
            keys.push(try parseKey())
            values.push(try parseValue())
            if try !parseObjectSeparator() { break }
        }
        depth -= 1
        return .object(popObject(keyStart: keyStart, valueStart: valueStart))
    }

    /// Moves the members pushed since `keyStart` and `valueStart` into an object.
    /// A repeated key keeps its last value at its first position, as in Python.
    mutating func popObject(keyStart: Int, valueStart: Int) -> JSONObject {
        let memberCount = keys.count - keyStart
        if memberCount <= 16, !keysRepeat(from: keyStart) {
            let objectKeys = keys.popContiguousArray(from: keyStart)
            let objectValues = values.popContiguousArray(from: valueStart)
            return JSONObject(uncheckedUniqueKeys: objectKeys, values: objectValues)
        }
        let objectKeys = keys.popContiguousArray(from: keyStart)
        let objectValues = values.popContiguousArray(from: valueStart)
        var object = JSONObject(minimumCapacity: memberCount)
        for i in 0..<memberCount { object.updateValue(objectValues[i], forKey: objectKeys[i]) }
        return object
    }

    /// Whether two of the keys from `start` to the top are equal.
    func keysRepeat(from start: Int) -> Bool {
        var i = start + 1
        while i < keys.count {
            let key = keys[i]
            for j in start..<i where keys[j] == key { return true }
            i += 1
        }
        return false
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
    @inline(__always)
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
    @inline(__always)
    mutating func scanPlainString() throws(JSONParsingError) -> (range: Range<Int>, ascii: Bool)? {
        let start = index + 1
        var i = start
        // Eight bytes at a time while none is a quote, a backslash or a
        // control character; the bytes' high bits are collected on the way.
        var highWords: UInt64 = 0
        while i + 8 <= count {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            if Self.hasQuoteBackslashOrControl(word) { break }
            highWords |= word
            i += 8
        }
        var high: UInt8 = highWords & 0x8080_8080_8080_8080 == 0 ? 0 : 0x80
        while i < count {
            let b = base[i]
            if b == UInt8(ascii: "\"") {
                index = i + 1
                return (start..<i, high < 0x80)
            }
            if b == UInt8(ascii: "\\") { return nil }
            if b < 0x20 { throw .controlCharacterInString(b, offset: i) }
            high |= b
            i += 1
        }
        throw .unexpectedEndOfInput(offset: count)
    }

    /// Whether one of the eight bytes of `word` is `"`, `\` or below 0x20.
    @inline(__always)
    static func hasQuoteBackslashOrControl(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        // A byte of `x` is zero exactly when `(x - 1) & ~x` has its high bit
        // set somewhere (and below `n` likewise with `x - n`, for n <= 0x80).
        let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        let zeroQuote = (quotes &- ones) & ~quotes
        let zeroBackslash = (backslashes &- ones) & ~backslashes
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control) & highBits != 0
    }

    /// The input bytes in `range`.
    @inline(__always)
    func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Whether the input bytes in `range` are those of `literal`.
    @inline(__always)
    func bytes(_ range: Range<Int>, equal literal: StaticString) -> Bool {
        range.count == literal.utf8CodeUnitCount && memcmp(base + range.lowerBound, literal.utf8Start, range.count) == 0
    }

    /// Makes a `String` from bytes of the input, validating UTF-8.
    @inline(__always)
    func makeString(_ range: Range<Int>, ascii: Bool, quoteOffset: Int) throws(JSONParsingError) -> String {
        let text = UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
        if ascii {
            // Copied straight in (inline for up to 15 bytes), with no repair pass.
            return String(unsafeUninitializedCapacity: text.count) { buffer in
                _ = buffer.initialize(from: text)
                return text.count
            }
        }
        guard let s = String(validating: text, as: UTF8.self) else { throw .invalidUTF8(offset: quoteOffset) }
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

    @inline(never)
    mutating func parseEscapedString(quoteOffset: Int) throws(JSONParsingError) -> String {
        scratch.removeAll(keepingCapacity: true)
        index = quoteOffset + 1
        while index < count {
            let b = base[index]
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
        throw .unexpectedEndOfInput(offset: count)
    }

    /// Parses one escape sequence (the current byte is the backslash) into `scratch`.
    mutating func parseEscape() throws(JSONParsingError) {
        let escapeOffset = index
        guard index + 1 < count else { throw .unexpectedEndOfInput(offset: count) }
        let c = base[index + 1]
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
                guard index + 1 < count, base[index] == UInt8(ascii: "\\"), base[index + 1] == UInt8(ascii: "u")
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
        guard index + 4 <= count else { throw .unexpectedEndOfInput(offset: count) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = base[index]
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
        let negative = base[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        let digitsStart = i
        guard i < count else { throw .unexpectedEndOfInput(offset: i) }
        // Every digit, integer part then fraction, accumulated modulo 2^64;
        // exact as long as there are at most 19 of them.
        var mantissa: UInt64 = 0
        let first = base[i]
        if first == UInt8(ascii: "0") {
            i += 1
        } else if Self.isDigit(first) {
            repeat {
                mantissa = mantissa &* 10 &+ UInt64(base[i] &- UInt8(ascii: "0"))
                i += 1
            } while i < count && Self.isDigit(base[i])
        } else {
            throw .invalidNumber(offset: start)
        }
        let integerEnd = i
        var isFloat = false
        var fractionDigits = 0
        // Python's number pattern only takes the fraction/exponent when digits follow.
        if i + 1 < count, base[i] == UInt8(ascii: "."), Self.isDigit(base[i + 1]) {
            isFloat = true
            i += 1
            let fractionStart = i
            repeat {
                mantissa = mantissa &* 10 &+ UInt64(base[i] &- UInt8(ascii: "0"))
                i += 1
            } while i < count && Self.isDigit(base[i])
            fractionDigits = i - fractionStart
        }
        var exponent = 0
        if i < count, base[i] == UInt8(ascii: "e") || base[i] == UInt8(ascii: "E") {
            var j = i + 1
            var negativeExponent = false
            if j < count, base[j] == UInt8(ascii: "+") || base[j] == UInt8(ascii: "-") {
                negativeExponent = base[j] == UInt8(ascii: "-")
                j += 1
            }
            if j < count, Self.isDigit(base[j]) {
                isFloat = true
                repeat {
                    // Saturates far outside the fast path's range instead of overflowing.
                    if exponent < 1_000_000 { exponent = exponent * 10 + Int(base[j] &- UInt8(ascii: "0")) }
                    j += 1
                } while j < count && Self.isDigit(base[j])
                if negativeExponent { exponent = -exponent }
                i = j
            }
        }
        index = i
        if isFloat {
            let digitCount = integerEnd - digitsStart + fractionDigits
            if digitCount <= 19, let value = Self.exactDouble(mantissa: mantissa, exponent: exponent - fractionDigits) {
                return .double(negative ? -value : value)
            }
            return try parseDoubleSlowly(start..<i)
        }
        let digitCount = integerEnd - digitsStart
        if digitCount > limits.maximumIntegerDigits {
            throw .integerTooLong(digits: digitCount, limit: limits.maximumIntegerDigits, offset: start)
        }
        if digitCount <= 18 {
            let value = Int(truncatingIfNeeded: mantissa)
            return .integer(negative ? -value : value)
        }
        return parseLongInteger(digitsStart..<integerEnd, negative: negative, start: start)
    }

    /// `mantissa × 10^exponent` when a single correctly rounded operation
    /// computes it exactly as `strtod` would: the mantissa fits in 53 bits and
    /// the power of ten is exact (at most 10^22); otherwise `nil`.
    @inline(__always)
    static func exactDouble(mantissa: UInt64, exponent: Int) -> Double? {
        if mantissa == 0 { return 0 }
        guard mantissa <= 1 << 53, exponent >= -22, exponent <= 22 else { return nil }
        let value = Double(mantissa)
        return exponent < 0 ? value / powerOfTen(-exponent) : value * powerOfTen(exponent)
    }

    /// 10^`exponent` for 0...22, each exactly representable as a `Double`.
    @inline(__always)
    static func powerOfTen(_ exponent: Int) -> Double {
        switch exponent {
        case 0: return 1e0
        case 1: return 1e1
        case 2: return 1e2
        case 3: return 1e3
        case 4: return 1e4
        case 5: return 1e5
        case 6: return 1e6
        case 7: return 1e7
        case 8: return 1e8
        case 9: return 1e9
        case 10: return 1e10
        case 11: return 1e11
        case 12: return 1e12
        case 13: return 1e13
        case 14: return 1e14
        case 15: return 1e15
        case 16: return 1e16
        case 17: return 1e17
        case 18: return 1e18
        case 19: return 1e19
        case 20: return 1e20
        case 21: return 1e21
        case 22: return 1e22
        default: preconditionFailure("10^\(exponent) is not exact")
        }
    }

    /// A float the fast path cannot compute exactly, through the C library.
    @inline(never)
    func parseDoubleSlowly(_ range: Range<Int>) throws(JSONParsingError) -> JSONValue {
        let text = String(decoding: slice(range), as: UTF8.self)
        guard let d = Double(text) else { throw .invalidNumber(offset: range.lowerBound) }
        return .double(d)
    }

    /// An integer of 19 or more digits: an `Int` when it fits, else its digits.
    @inline(never)
    func parseLongInteger(_ digits: Range<Int>, negative: Bool, start: Int) -> JSONValue {
        var value = 0
        var overflow = false
        for k in digits {
            let digit = Int(base[k] &- UInt8(ascii: "0"))
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            if o1 || o2 { overflow = true; break }
            value = s
        }
        if !overflow { return .integer(value) }
        return .bigInteger(String(decoding: slice(start..<digits.upperBound), as: UTF8.self))
    }
}
