#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Limits for parsing JSON text (frame headers and content).
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
package struct JSONParser: ~Copyable {
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
    package static func parse(
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
    package static func parse(
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
    package static func parse(_ text: String, limits: JSONParsingLimits = .init()) throws(JSONParsingError) -> JSONValue {
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
}
