#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Strings: scanning, escapes and UTF-8 checks.
extension JSONParser {
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
}
