#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes `Decodable` values straight from JSON text, without building a
/// ``JSONValue`` tree first.
///
/// The text is checked whole first, with the limits and errors of the
/// bounded parser (``JSONParser``); then each container indexes where its
/// members or elements start, and each scalar is read where it is asked for.
/// The conversions and the errors are those of ``JSONValueDecoder`` (a
/// repeated key counts by its last value; a member of type ``JSONValue`` is
/// parsed as it is). The decoded type must not keep its decoder or
/// containers beyond `init(from:)`: they read memory that is only lent.
package enum JSONTextDecoder {
    /// Decodes `type` from the JSON text `bytes`.
    /// - Parameters:
    ///   - type: the type to decode.
    ///   - bytes: one JSON text (surrounding whitespace allowed).
    ///   - limits: the parser's limits.
    ///   - userInfo: handed to the decoded types as `Decoder.userInfo`.
    ///   - validated: whether `bytes` passed ``JSONParser/validate(_:limits:)`` (or
    ///     the parser) already, with the same limits.
    /// - Returns: the value.
    /// - Throws: ``JSONParsingError`` when the text is not one valid value;
    ///   `DecodingError` when it does not have the shape `type` expects; any
    ///   error `type` throws itself.
    package static func decode<T: Decodable>(
        _ type: T.Type,
        from bytes: UnsafeRawBufferPointer,
        limits: JSONParsingLimits = .init(),
        userInfo: [CodingUserInfoKey: any Sendable] = [:],
        validated: Bool = false
    ) throws -> T {
        if !validated { try JSONParser.validate(bytes, limits: limits) }
        let state = JSONTextDecodingState(bytes: bytes, limits: limits, userInfo: userInfo)
        var parser = state.parser(at: 0)
        parser.skipWhitespace()
        let start = parser.index
        if T.self == JSONValue.self { return try state.value(at: start) as! T }
        return try T(from: JSONTextDecoderImplementation(state: state, offset: start, depth: 0))
    }
}

/// The text and the coding path of one ``JSONTextDecoder/decode(_:from:limits:userInfo:validated:)`` call.
///
/// Its properties are not checked for exclusive access at run time: one decode
/// call uses the state on one thread, and no access to a property overlaps
/// another to the same property.
final class JSONTextDecodingState {
    /// Where a member of an object is.
    struct Member {
        /// The bytes of its key (without quotes) when it has no escapes.
        var keyRange: Range<Int>
        /// Whether the key is ASCII.
        var keyIsASCII: Bool
        /// The key, when it has escapes.
        var escapedKey: String?
        /// Where its value starts.
        var valueOffset: Int
    }

    let bytes: UnsafeRawBufferPointer
    let limits: JSONParsingLimits
    let userInfo: [CodingUserInfoKey: Any]
    /// The coding path of the innermost value being decoded.
    @exclusivity(unchecked) var path: [JSONTextPathStep] = []
    /// The members of every object indexed so far, each object's together
    /// (one array for the whole text, not one per object).
    @exclusivity(unchecked) var members = ContiguousArray<Member>()
    /// The element offsets of every array indexed so far, each array's together.
    @exclusivity(unchecked) var elements = ContiguousArray<Int>()

    init(bytes: UnsafeRawBufferPointer, limits: JSONParsingLimits, userInfo: [CodingUserInfoKey: any Sendable]) {
        self.bytes = bytes
        self.limits = limits
        self.userInfo = userInfo.isEmpty ? [:] : userInfo.mapValues { $0 as Any }
    }

    /// A parser at `offset`.
    @inline(__always)
    func parser(at offset: Int) -> JSONParser {
        var parser = JSONParser(bytes: bytes, limits: limits)
        parser.index = offset
        return parser
    }

    /// The first byte of the value at `offset`.
    @inline(__always)
    func byte(at offset: Int) -> UInt8 {
        bytes[offset]
    }

    /// The value at `offset`, built (a scalar, or a tree for a ``JSONValue`` member).
    @inline(__always)
    func value(at offset: Int) throws(JSONParsingError) -> JSONValue {
        var parser = parser(at: offset)
        return try parser.parseValue()
    }

    /// The coding path of the first `depth` steps.
    func codingPath(depth: Int) -> [any CodingKey] {
        path.prefix(depth).map(\.codingKey)
    }

    /// The coding path of the first `depth` steps and `step`.
    func codingPath(depth: Int, _ step: JSONTextPathStep) -> [any CodingKey] {
        codingPath(depth: depth) + [step.codingKey]
    }

    /// Sets the path to its first `depth` steps and `step`.
    @inline(__always)
    func setPath(depth: Int, _ step: JSONTextPathStep) {
        if path.count > depth { path.removeSubrange(depth...) }
        if path.capacity == 0 { path.reserveCapacity(8) }
        path.append(step)
    }

    // MARK: - Containers

    /// Indexes the members of the object at `offset`, in order.
    /// - Returns: where they are in ``members``.
    func indexMembers(at offset: Int) throws(JSONParsingError) -> Range<Int> {
        var parser = parser(at: offset)
        parser.index += 1  // "{"
        if members.capacity == 0 { members.reserveCapacity(16) }
        let start = members.count
        if try parser.peekNonWhitespace() == UInt8(ascii: "}") { return start..<start }
        repeat {
            _ = try parser.peekNonWhitespace()
            let quoteOffset = parser.index
            var member: Member
            if let (range, ascii) = try parser.scanPlainString() {
                member = Member(keyRange: range, keyIsASCII: ascii, escapedKey: nil, valueOffset: 0)
            } else {
                let key = try parser.parseEscapedString(quoteOffset: quoteOffset)
                member = Member(keyRange: 0..<0, keyIsASCII: false, escapedKey: key, valueOffset: 0)
            }
            try parser.expect(UInt8(ascii: ":"))
            parser.skipWhitespace()
            member.valueOffset = parser.index
            try parser.skipValue()
            members.append(member)
        } while try parser.parseObjectSeparator()
        return start..<members.count
    }

    /// Indexes the offsets of the elements of the array at `offset`.
    /// - Returns: where they are in ``elements``.
    func indexElements(at offset: Int) throws(JSONParsingError) -> Range<Int> {
        var parser = parser(at: offset)
        parser.index += 1  // "["
        if elements.capacity == 0 { elements.reserveCapacity(16) }
        let start = elements.count
        if try parser.peekNonWhitespace() == UInt8(ascii: "]") { return start..<start }
        while true {
            parser.skipWhitespace()
            elements.append(parser.index)
            try parser.skipValue()
            let next = try parser.peekNonWhitespace()
            parser.index += 1
            if next != UInt8(ascii: ",") { break }
        }
        return start..<elements.count
    }

    /// The key of `member` as a string.
    func key(of member: Member) -> String {
        if let escaped = member.escapedKey { return escaped }
        let text = UnsafeBufferPointer(
            start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + member.keyRange.lowerBound,
            count: member.keyRange.count)
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether `member`'s key is `key` (as `String` equality has it).
    @inline(__always)
    func member(_ member: Member, hasKey key: String) -> Bool {
        if member.escapedKey != nil { return member.escapedKey! == key }
        var key = key
        let sameBytes: Bool = key.withUTF8 { utf8 in
            utf8.count == member.keyRange.count
                && (utf8.isEmpty || memcmp(utf8.baseAddress!, bytes.baseAddress! + member.keyRange.lowerBound, utf8.count) == 0)
        }
        if sameBytes { return true }
        // Different bytes may still be equal strings (canonical equivalence), beyond ASCII only.
        if member.keyIsASCII && key.utf8.allSatisfy({ $0 < 0x80 }) { return false }
        return self.key(of: member) == key
    }
}

/// The `Decoder` behind ``JSONTextDecoder``: one value of the text.
struct JSONTextDecoderImplementation: Decoder {
    let state: JSONTextDecodingState
    /// Where the value starts.
    let offset: Int
    /// The length of its coding path.
    let depth: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }
    var userInfo: [CodingUserInfoKey: Any] { state.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard state.byte(at: offset) == UInt8(ascii: "{") else {
            throw mismatch(KeyedDecodingContainer<Key>.self, expected: "an object", found: try state.value(at: offset), at: codingPath)
        }
        return KeyedDecodingContainer(
            JSONTextKeyedDecodingContainer<Key>(state: state, members: try state.indexMembers(at: offset), depth: depth))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard state.byte(at: offset) == UInt8(ascii: "[") else {
            throw mismatch((any UnkeyedDecodingContainer).self, expected: "an array", found: try state.value(at: offset), at: codingPath)
        }
        return JSONTextUnkeyedDecodingContainer(state: state, elements: try state.indexElements(at: offset), depth: depth)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        JSONTextSingleValueDecodingContainer(decoder: self)
    }

    /// Decodes `type` from the value at `offset`, one step below `depth`.
    static func decode<T: Decodable>(
        _ type: T.Type, state: JSONTextDecodingState, offset: Int, depth: Int, step: JSONTextPathStep
    ) throws -> T {
        if T.self == JSONValue.self { return try state.value(at: offset) as! T }
        state.setPath(depth: depth, step)
        return try T(from: JSONTextDecoderImplementation(state: state, offset: offset, depth: depth + 1))
    }
}

// MARK: - Scalars

/// Conversions of scalars as ``JSONValueDecoder`` makes them: the common case
/// without building a coding path; any other through the same functions.
enum JSONTextScalar {
    @inline(__always)
    static func bool(_ value: JSONValue, _ path: () -> [any CodingKey]) throws -> Bool {
        if case .bool(let bool) = value { return bool }
        return try unboxBool(value, at: path())
    }

    @inline(__always)
    static func string(_ value: JSONValue, _ path: () -> [any CodingKey]) throws -> String {
        if case .string(let string) = value { return string }
        return try unboxString(value, at: path())
    }

    @inline(__always)
    static func double(_ value: JSONValue, _ path: () -> [any CodingKey]) throws -> Double {
        switch value {
        case .double(let double): return double
        case .integer(let integer): return Double(integer)
        default: return try unboxDouble(value, at: path())
        }
    }

    @inline(__always)
    static func float(_ value: JSONValue, _ path: () -> [any CodingKey]) throws -> Float {
        if case .double(let double) = value, double.isFinite, double.magnitude <= Double(Float.greatestFiniteMagnitude) {
            return Float(double)
        }
        return try unboxFloat(value, at: path())
    }

    @inline(__always)
    static func integer<T: FixedWidthInteger>(_ type: T.Type, _ value: JSONValue, _ path: () -> [any CodingKey]) throws -> T {
        if case .integer(let integer) = value, let result = T(exactly: integer) { return result }
        return try unboxInteger(type, value, at: path())
    }
}
