/// Why a JSON text could not be read, and at which byte offset.
///
/// Offsets count bytes from the start of the JSON text that was parsed (for a
/// frame: from the first byte of the header, or of the content).
public enum JSONParsingError: Error, Sendable, Hashable {
    /// The text ended where a value, or the rest of one, was expected.
    case unexpectedEndOfInput(offset: Int)
    /// A byte that cannot start or continue a value at this position.
    case unexpectedByte(UInt8, offset: Int)
    /// A string that is not valid UTF-8; the offset is that of its opening quote.
    case invalidUTF8(offset: Int)
    /// A raw control character (below U+0020) inside a string, which Python's
    /// strict decoder refuses.
    case controlCharacterInString(UInt8, offset: Int)
    /// A backslash escape that is not one of `\" \\ \/ \b \f \n \r \t \uXXXX`,
    /// or a `\u` escape that names a lone surrogate.
    case invalidEscape(offset: Int)
    /// A number that does not follow the JSON grammar.
    case invalidNumber(offset: Int)
    /// An integer with more decimal digits than the limit (Python refuses over 4300).
    case integerTooLong(digits: Int, limit: Int, offset: Int)
    /// Arrays and objects nested deeper than the limit.
    case nestingTooDeep(limit: Int, offset: Int)
    /// Bytes other than whitespace after a complete value.
    case trailingData(offset: Int)

    /// The byte offset the error refers to.
    public var offset: Int {
        switch self {
        case .unexpectedEndOfInput(let o), .unexpectedByte(_, let o), .invalidUTF8(let o),
            .controlCharacterInString(_, let o), .invalidEscape(let o), .invalidNumber(let o),
            .integerTooLong(_, _, let o), .nestingTooDeep(_, let o), .trailingData(let o):
            return o
        }
    }
}

extension JSONParsingError: CustomStringConvertible {
    /// A one-line explanation naming the byte offset.
    public var description: String {
        switch self {
        case .unexpectedEndOfInput(let o): return "unexpected end of JSON at byte \(o)"
        case .unexpectedByte(let b, let o): return "unexpected byte 0x\(String(b, radix: 16)) at byte \(o)"
        case .invalidUTF8(let o): return "string at byte \(o) is not valid UTF-8"
        case .controlCharacterInString(let b, let o):
            return "raw control character 0x\(String(b, radix: 16)) in string at byte \(o)"
        case .invalidEscape(let o): return "invalid escape at byte \(o)"
        case .invalidNumber(let o): return "invalid number at byte \(o)"
        case .integerTooLong(let d, let l, let o): return "integer of \(d) digits at byte \(o) exceeds the limit of \(l)"
        case .nestingTooDeep(let l, let o): return "nesting deeper than \(l) at byte \(o)"
        case .trailingData(let o): return "extra data after the JSON value at byte \(o)"
        }
    }
}
