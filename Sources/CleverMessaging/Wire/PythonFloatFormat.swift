/// A finite `Double` laid out as Python's `float.__repr__` writes it, which is
/// also what `json.dumps` and `str(float)` write.
///
/// Python writes the shortest digits that read back exactly, in positional
/// notation with at least one fractional digit (`1700000000.123`, `3.0`,
/// `0.0001`) when the decimal exponent is from -4 to 15, and otherwise in
/// exponent notation with a signed, at least two-digit exponent (`1e-05`,
/// `1e+16`, `1.5e+300`, `5e-324`). Swift's text for a `Double` holds the same
/// shortest digits but switches to exponent notation at other magnitudes
/// (above 2^53 rather than from 1e16), so the digits are taken from Swift's
/// text and laid out again by Python's rules.
///
/// Swift's text arrives through `TextOutputStream`, which hands it over from a
/// stack buffer, so formatting allocates nothing. When Swift already chose
/// Python's notation (all values but those from 2^53 to 1e16) the text is
/// copied as it is; otherwise its digits are laid out again.
struct PythonFloatFormat: TextOutputStream {
    /// An upper bound of the length of the text (24 at most:
    /// `-1.2345678901234567e-308`).
    static let maximumLength = 32

    /// Where the text goes (room for ``maximumLength`` bytes).
    private let destination: UnsafeMutablePointer<UInt8>
    /// Whether Python writes the value in positional notation.
    private let isPositional: Bool
    /// The length of the text written to `destination`.
    private var length = 0

    private init(destination: UnsafeMutablePointer<UInt8>, isPositional: Bool) {
        self.destination = destination
        self.isPositional = isPositional
    }

    // MARK: - Writing

    /// Writes the text of a finite `value` to `destination`, which has room
    /// for ``maximumLength`` bytes, and returns its length.
    @inline(__always)
    static func write(_ value: Double, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        // Python's notation is positional exactly when the shortest digits
        // have a decimal exponent from -4 to 15, that is when 1e-4 <= |value| < 1e16
        // (both bounds are one-digit decimals, so shortest digits never cross them).
        let magnitude = value.magnitude
        var format = PythonFloatFormat(
            destination: destination,
            isPositional: magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e16)
        )
        value.write(to: &format)
        return format.length
    }

    /// Writes the text of a finite `value` to `output`.
    @inline(__always)
    static func write(_ value: Double, into output: inout JSONOutput) {
        output.write(maximumLength: maximumLength) { write(value, to: $0) }
    }

    /// Python's `str(value)`, including `nan`, `inf` and `-inf`.
    static func string(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return String(unsafeUninitializedCapacity: maximumLength) { write(value, to: $0.baseAddress!) }
    }

    // MARK: - Receiving Swift's text

    /// Takes Swift's text of the value: `-`? digits (`.` digits)? (`e` sign digits)?.
    mutating func _writeASCII(_ text: UnsafeBufferPointer<UInt8>) {
        var isExponent = false
        for byte in text where byte == UInt8(ascii: "e") { isExponent = true }
        if isExponent != isPositional {
            // Swift chose Python's notation, and writes it as Python does
            // (`1e-05`, `1.5e+16`, `100.0`).
            precondition(text.count <= Self.maximumLength, "text of a Double longer than \(Self.maximumLength) bytes")
            destination.update(from: text.baseAddress!, count: text.count)
            length = text.count
        } else {
            length = Self.relayout(text, to: destination)
        }
    }

    /// Takes Swift's text of the value when it comes as a `String`.
    mutating func write(_ string: String) {
        var string = string
        string.withUTF8 { _writeASCII($0) }
    }

    // MARK: - Laying the digits out again

    /// Writes the value of `text` in Python's layout to `destination` and returns its length.
    @inline(never)
    private static func relayout(_ text: UnsafeBufferPointer<UInt8>, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        // The significant digits, without leading or trailing zeros; the value
        // is 0.d1d2…dn × 10^point.
        var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &storage) { raw in
            let digits = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var out = destination
            var position = 0
            if text.first == UInt8(ascii: "-") {
                out.pointee = UInt8(ascii: "-")
                out += 1
                position = 1
            }
            var count = 0
            var index = 0
            var integerDigits = -1
            var firstSignificant = -1
            var pendingZeros = 0
            var exponent = 0
            while position < text.count {
                let byte = text[position]
                position += 1
                switch byte {
                case UInt8(ascii: "0"):
                    if firstSignificant >= 0 { pendingZeros += 1 }
                    index += 1
                case UInt8(ascii: "1")...UInt8(ascii: "9"):
                    if firstSignificant < 0 { firstSignificant = index }
                    precondition(count + pendingZeros < raw.count, "more significant digits than a Double has")
                    digits.advanced(by: count).update(repeating: UInt8(ascii: "0"), count: pendingZeros)
                    count += pendingZeros
                    pendingZeros = 0
                    digits[count] = byte
                    count += 1
                    index += 1
                case UInt8(ascii: "."):
                    integerDigits = index
                case UInt8(ascii: "e"), UInt8(ascii: "E"):
                    var negative = false
                    if position < text.count, text[position] == UInt8(ascii: "-") || text[position] == UInt8(ascii: "+") {
                        negative = text[position] == UInt8(ascii: "-")
                        position += 1
                    }
                    while position < text.count {
                        exponent = exponent &* 10 &+ Int(text[position] &- UInt8(ascii: "0"))
                        position += 1
                    }
                    if negative { exponent = -exponent }
                default:
                    preconditionFailure("unexpected byte \(byte) in the text of a finite Double")
                }
            }
            if count == 0 {
                copy("0.0", to: &out)
                return out - destination
            }
            if integerDigits < 0 { integerDigits = index }
            let point = integerDigits - firstSignificant + exponent

            if point <= -4 || point > 16 {
                // d[.ddd]e±XX
                out.pointee = digits[0]
                out += 1
                if count > 1 {
                    out.pointee = UInt8(ascii: ".")
                    out += 1
                    copy(digits + 1, count: count - 1, to: &out)
                }
                let exponent = point - 1
                out[0] = UInt8(ascii: "e")
                out[1] = exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
                out += 2
                var magnitude = exponent.magnitude
                if magnitude >= 100 {
                    out.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude / 100)
                    out += 1
                    magnitude %= 100
                }
                out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude / 10)
                out[1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                out += 2
            } else if point <= 0 {
                // 0.000ddd
                copy("0.", to: &out)
                zeros(-point, to: &out)
                copy(digits, count: count, to: &out)
            } else if point >= count {
                // ddd000.0
                copy(digits, count: count, to: &out)
                zeros(point - count, to: &out)
                copy(".0", to: &out)
            } else {
                // ddd.ddd
                copy(digits, count: point, to: &out)
                out.pointee = UInt8(ascii: ".")
                out += 1
                copy(digits + point, count: count - point, to: &out)
            }
            return out - destination
        }
    }

    @inline(__always)
    private static func copy(_ source: UnsafePointer<UInt8>, count: Int, to out: inout UnsafeMutablePointer<UInt8>) {
        out.update(from: source, count: count)
        out += count
    }

    @inline(__always)
    private static func copy(_ text: StaticString, to out: inout UnsafeMutablePointer<UInt8>) {
        copy(text.utf8Start, count: text.utf8CodeUnitCount, to: &out)
    }

    @inline(__always)
    private static func zeros(_ count: Int, to out: inout UnsafeMutablePointer<UInt8>) {
        out.update(repeating: UInt8(ascii: "0"), count: count)
        out += count
    }
}
