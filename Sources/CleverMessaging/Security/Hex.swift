import NIOCore

/// Bytes as lowercase hexadecimal text and back: the form of nonces, proofs
/// and signatures in this library's extension frames, and of `clever-msg`'s
/// `--hex` input and output.
package enum Hex {
    private static let digits: StaticString = "0123456789abcdef"

    /// Appends the hex text of `bytes` to `out`, two digits per byte.
    /// - Parameters:
    ///   - bytes: the bytes.
    ///   - out: the buffer to append to.
    package static func encode(_ bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        guard !bytes.isEmpty else { return }
        let table = digits.utf8Start
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count * 2) { space in
            var position = 0
            for byte in bytes {
                space[position] = table[Int(byte >> 4)]
                space[position + 1] = table[Int(byte & 0x0F)]
                position += 2
            }
            return position
        }
    }

    /// The hex text of `bytes`.
    /// - Parameter bytes: the bytes.
    /// - Returns: lowercase hex, two digits per byte.
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = ByteBuffer()
        Array(bytes).withUnsafeBytes { encode($0, into: &out) }
        return String(buffer: out)
    }

    /// The bytes that hexadecimal digits (either case) spell.
    /// - Parameter text: the digits, two per byte.
    /// - Returns: the bytes, or `nil` when `text` has an odd length or a character that is not a digit.
    package static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
