// Numbers: integers of any size and floats read as Python reads them.
extension JSONParser {
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
