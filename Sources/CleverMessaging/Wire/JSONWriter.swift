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
        buffer.writeJSONText(estimate: 256, maximumLength: { maximumLength(of: value) }) { output in
            write(value, into: &output)
        }
    }

    /// Appends `object` to `buffer`.
    /// - Parameters:
    ///   - object: the object to write, in its key order.
    ///   - buffer: the buffer to append to.
    public static func writeObject(_ object: JSONObject, into buffer: inout ByteBuffer) {
        buffer.writeJSONText(estimate: 256, maximumLength: { maximumLength(of: object) }) { output in
            writeObject(object, into: &output)
        }
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
        buffer.writeJSONText(estimate: 20, maximumLength: { 20 }) { $0.write(integer: value) }
    }

    /// Appends a float the way Python's `float.__repr__` reads back exactly.
    static func writeDouble(_ value: Double, into buffer: inout ByteBuffer) {
        buffer.writeJSONText(estimate: PythonFloatFormat.maximumLength, maximumLength: { PythonFloatFormat.maximumLength }) {
            writeDouble(value, into: &$0)
        }
    }

    /// Appends a quoted, escaped string.
    static func writeString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeJSONText(estimate: 2 + string.utf8.count, maximumLength: { maximumLength(of: string) }) {
            writeString(string, into: &$0)
        }
    }

    // MARK: - Writing through an output cursor

    /// Writes `value` to `output`.
    static func write(_ value: JSONValue, into output: inout JSONOutput) {
        switch value {
        case .null: output.write("null")
        case .bool(let b): output.write(b ? "true" : "false")
        case .integer(let i): output.write(integer: i)
        case .bigInteger(let digits): output.write(utf8: digits)
        case .double(let d): writeDouble(d, into: &output)
        case .string(let s): writeString(s, into: &output)
        case .array(let elements):
            output.write(byte: UInt8(ascii: "["))
            elements.withUnsafeBufferPointer { elements in
                for i in elements.indices {
                    if i != 0 { output.write(", ") }
                    write(elements[i], into: &output)
                }
            }
            output.write(byte: UInt8(ascii: "]"))
        case .object(let object):
            writeObject(object, into: &output)
        }
    }

    /// Writes `object` to `output`, in its key order.
    static func writeObject(_ object: JSONObject, into output: inout JSONOutput) {
        output.write(byte: UInt8(ascii: "{"))
        object.keys.elements.withUnsafeBufferPointer { keys in
            object.values.withUnsafeBufferPointer { values in
                for i in keys.indices {
                    if i != 0 { output.write(", ") }
                    writeString(keys[i], into: &output)
                    output.write(": ")
                    write(values[i], into: &output)
                }
            }
        }
        output.write(byte: UInt8(ascii: "}"))
    }

    /// Writes a float the way Python's `float.__repr__` reads back exactly.
    static func writeDouble(_ value: Double, into output: inout JSONOutput) {
        if value.isNaN {
            output.write("NaN")
        } else if value.isInfinite {
            output.write(value < 0 ? "-Infinity" : "Infinity")
        } else {
            // Always holds a "." or an "e" ("1.0", "1e-05"), so it reads back as a float.
            PythonFloatFormat.write(value, into: &output)
        }
    }

    /// Writes a quoted, escaped string.
    @inline(__always)
    static func writeString(_ string: String, into output: inout JSONOutput) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            writeQuoted(utf8: UnsafeRawBufferPointer(utf8), into: &output)
        }
        if done == nil {
            Array(string.utf8).withUnsafeBytes { writeQuoted(utf8: $0, into: &output) }
        }
    }

    /// Writes a quoted, escaped string given as UTF-8 bytes.
    static func writeQuoted(utf8: UnsafeRawBufferPointer, into output: inout JSONOutput) {
        var plain = true
        var i = 0
        // Eight bytes at a time, then the rest one by one.
        if let base = utf8.baseAddress {
            while i + 8 <= utf8.count {
                if JSONParser.hasQuoteBackslashOrControl(base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { break }
                i += 8
            }
        }
        while i < utf8.count {
            let byte = utf8[i]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                plain = false
                break
            }
            i += 1
        }
        output.write(byte: UInt8(ascii: "\""))
        if plain {
            output.write(bytes: utf8)
        } else {
            writeEscaped(utf8, into: &output)
        }
        output.write(byte: UInt8(ascii: "\""))
    }

    @inline(never)
    static func writeEscaped(_ utf8: UnsafeRawBufferPointer, into output: inout JSONOutput) {
        let hex: StaticString = "0123456789abcdef"
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.write("\\\"")
            case UInt8(ascii: "\\"): output.write("\\\\")
            case 0x0A: output.write("\\n")
            case 0x0D: output.write("\\r")
            case 0x09: output.write("\\t")
            case 0x08: output.write("\\b")
            case 0x0C: output.write("\\f")
            case 0..<0x20:
                output.write("\\u00")
                output.write(byte: hex.utf8Start[Int(byte >> 4)])
                output.write(byte: hex.utf8Start[Int(byte & 0xF)])
            default: output.write(byte: byte)
            }
        }
    }

    // MARK: - Length bounds

    /// An upper bound of the length of `value`'s text.
    static func maximumLength(of value: JSONValue) -> Int {
        switch value {
        case .null: return 4
        case .bool: return 5
        case .integer: return 20
        case .bigInteger(let digits): return digits.utf8.count
        case .double: return PythonFloatFormat.maximumLength
        case .string(let s): return maximumLength(of: s)
        case .array(let elements):
            var length = 2 + 2 * elements.count
            for element in elements { length += maximumLength(of: element) }
            return length
        case .object(let object):
            return maximumLength(of: object)
        }
    }

    /// An upper bound of the length of `object`'s text.
    static func maximumLength(of object: JSONObject) -> Int {
        var length = 2 + 4 * object.count
        for (key, value) in object { length += maximumLength(of: key) + maximumLength(of: value) }
        return length
    }

    /// An upper bound of the length of `string` quoted and escaped: exact for
    /// long strings, six bytes a byte (`\u00XX`) for short ones.
    static func maximumLength(of string: String) -> Int {
        let count = string.utf8.count
        if count <= 64 { return 2 + 6 * count }
        var length = 2
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09, 0x08, 0x0C: length += 2
            case 0..<0x20: length += 6
            default: length += 1
            }
        }
        return length
    }
}
