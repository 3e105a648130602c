import NIOCore
import OrderedCollections

/// Writes ``JSONValue``s as Python's `json.dumps(value, ensure_ascii=False)` does.
///
/// Separators are `", "` and `": "`, non-ASCII text is raw UTF-8, control
/// characters, `"` and `\` are escaped, and non-finite floats are written as
/// `NaN`, `Infinity` and `-Infinity` so that Python reads them back as floats.
/// A float always carries a `.` or an exponent, so it is read back as a float.
public enum JSONWriter {
    /// Appends `value` to `buffer`.
    /// - Parameters:
    ///   - value: the value to write.
    ///   - buffer: the buffer to append to.
    public static func write(_ value: JSONValue, into buffer: inout ByteBuffer) {
        switch value {
        case .null: buffer.writeStaticString("null")
        case .bool(let b): buffer.writeStaticString(b ? "true" : "false")
        case .integer(let i): writeInteger(i, into: &buffer)
        case .bigInteger(let digits): buffer.writeString(digits)
        case .double(let d): writeDouble(d, into: &buffer)
        case .string(let s): writeString(s, into: &buffer)
        case .array(let elements):
            buffer.writeInteger(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { buffer.writeStaticString(", ") }
                first = false
                write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let object):
            writeObject(object, into: &buffer)
        }
    }

    /// Appends `object` to `buffer`.
    /// - Parameters:
    ///   - object: the object to write, in its key order.
    ///   - buffer: the buffer to append to.
    public static func writeObject(_ object: JSONObject, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "{"))
        var first = true
        for (key, member) in object {
            if !first { buffer.writeStaticString(", ") }
            first = false
            writeString(key, into: &buffer)
            buffer.writeStaticString(": ")
            write(member, into: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// The bytes of `value`.
    /// - Parameter value: the value to write.
    /// - Returns: its UTF-8 text.
    public static func bytes(of value: JSONValue) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        write(value, into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes)!
    }

    /// Appends a decimal integer.
    static func writeInteger(_ value: Int, into buffer: inout ByteBuffer) {
        if value >= 0 && value < 10 {
            buffer.writeInteger(UInt8(ascii: "0") &+ UInt8(value))
            return
        }
        // At most 20 characters: sign and 19 digits.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { scratch in
            var magnitude = value.magnitude
            var position = scratch.count
            repeat {
                position -= 1
                scratch[position] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if value < 0 {
                position -= 1
                scratch[position] = UInt8(ascii: "-")
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: scratch[position...]))
        }
    }

    /// Appends a float the way Python's `float.__repr__` reads back exactly.
    static func writeDouble(_ value: Double, into buffer: inout ByteBuffer) {
        if value.isNaN {
            buffer.writeStaticString("NaN")
        } else if value.isInfinite {
            buffer.writeStaticString(value < 0 ? "-Infinity" : "Infinity")
        } else {
            // Swift's description is the shortest text that reads back exactly,
            // and always holds a "." or an "e" for finite values ("1.0", "1e-05").
            buffer.writeString(value.description)
        }
    }

    /// Appends a quoted, escaped string.
    static func writeString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var needsEscaping = false
        for byte in string.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            needsEscaping = true
            break
        }
        if !needsEscaping {
            buffer.writeString(string)
        } else {
            writeEscaped(string, into: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    static func writeEscaped(_ string: String, into buffer: inout ByteBuffer) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            case 0x09: buffer.writeStaticString("\\t")
            case 0x08: buffer.writeStaticString("\\b")
            case 0x0C: buffer.writeStaticString("\\f")
            case 0..<0x20:
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(hex[Int(byte >> 4)])
                buffer.writeInteger(hex[Int(byte & 0xF)])
            default: buffer.writeInteger(byte)
            }
        }
    }
}
