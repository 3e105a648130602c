/// The request ids this library makes: a per-link counter written as a
/// zero-padded decimal string of at least 4 digits (the reference's shape,
/// `"0042"`, without its collisions; PROTOCOL.md 3.3 and 6).
package enum RequestID {
    /// The id of request number `number`.
    /// - Parameter number: the counter value.
    /// - Returns: `number` in decimal, zero-padded to 4 digits.
    package static func format(_ number: Int) -> String {
        guard number >= 0 else {
            // Never made by a connection's counter; kept as it always was.
            let digits = String(number)
            return digits.count >= 4 ? digits : String(repeating: "0", count: 4 - digits.count) + digits
        }
        // Written in one pass into the string's own bytes (up to 15 digits
        // fit a small string, so no allocation), instead of a string of the
        // digits, one of the padding, and their concatenation.
        var length = 4
        var rest = number / 10_000
        while rest > 0 {
            length += 1
            rest /= 10
        }
        return String(unsafeUninitializedCapacity: length) { bytes in
            var rest = number
            var index = length - 1
            while index >= 0 {
                bytes[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
                index -= 1
            }
            return length
        }
    }

    /// The counter value whose id (``format(_:)``) is exactly `id`, or `nil`
    /// when `id` is not such an id (not all ASCII digits, fewer than 4, a
    /// leading zero beyond the padding, or beyond `Int.max`).
    /// - Parameter id: an id as received.
    /// - Returns: its number, or `nil`.
    package static func number(_ id: String) -> Int? {
        var id = id
        return id.withUTF8 { bytes -> Int? in
            guard bytes.count >= 4, bytes.count <= 19 else { return nil }
            if bytes.count > 4, bytes[0] == UInt8(ascii: "0") { return nil }
            var number = 0
            for byte in bytes {
                let digit = byte &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                let (times10, o1) = number.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(digit))
                if o1 || o2 { return nil }
                number = sum
            }
            return number
        }
    }
}
