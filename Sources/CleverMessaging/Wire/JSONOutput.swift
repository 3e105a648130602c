import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A cursor writing text into memory reserved in a `ByteBuffer`.
///
/// Every write checks that it fits; one that does not is skipped and marks
/// the output as overflowed, after which the caller reserves the exact upper
/// bound and writes again (see `ByteBuffer.writeJSONText`). Writing through a
/// pointer avoids the buffer's per-call uniqueness and exclusivity checks.
struct JSONOutput {
    private let start: UnsafeMutablePointer<UInt8>
    private var cursor: UnsafeMutablePointer<UInt8>
    private let end: UnsafeMutablePointer<UInt8>
    /// Whether a write did not fit (the text written is then incomplete).
    private(set) var overflowed = false

    /// Creates an output over `memory`, which must hold at least one byte.
    init(_ memory: UnsafeMutableRawBufferPointer) {
        let base = memory.baseAddress!.assumingMemoryBound(to: UInt8.self)
        start = base
        cursor = base
        end = base + memory.count
    }

    /// Creates an output over the memory from `start` up to `end`.
    init(start: UnsafeMutablePointer<UInt8>, end: UnsafeMutablePointer<UInt8>) {
        self.start = start
        cursor = start
        self.end = end
    }

    /// The number of bytes written.
    var count: Int { cursor - start }

    /// Whether `byteCount` more bytes fit; if not, marks the output overflowed.
    @inline(__always)
    mutating func reserve(_ byteCount: Int) -> Bool {
        if end - cursor >= byteCount { return true }
        overflowed = true
        return false
    }

    /// Writes one byte.
    @inline(__always)
    mutating func write(byte: UInt8) {
        guard reserve(1) else { return }
        cursor.pointee = byte
        cursor += 1
    }

    /// Writes the bytes of `text`.
    @inline(__always)
    mutating func write(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        guard reserve(length) else { return }
        cursor.update(from: text.utf8Start, count: length)
        cursor += length
    }

    /// Writes `bytes`.
    @inline(__always)
    mutating func write(bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, reserve(bytes.count) else { return }
        UnsafeMutableRawPointer(cursor).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        cursor += bytes.count
    }

    /// Writes what `body` puts at the pointer it is given, at most
    /// `maximumLength` bytes; `body` returns how many it wrote.
    @inline(__always)
    mutating func write(maximumLength: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        guard reserve(maximumLength) else { return }
        cursor += body(cursor)
    }

    /// Writes the UTF-8 bytes of `text` as they are.
    @inline(__always)
    mutating func write(utf8 text: String) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { write(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil {
            for byte in text.utf8 { write(byte: byte) }
        }
    }

    /// Writes a non-negative integer's decimal digits.
    @inline(__always)
    mutating func write(unsigned value: UInt64) {
        guard reserve(20) else { return }
        writeDigits(of: value)
    }

    /// Writes a decimal integer.
    @inline(__always)
    mutating func write(integer value: Int) {
        guard reserve(20) else { return }
        if value >= 0 && value < 10 {
            cursor.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value)
            cursor += 1
            return
        }
        if value < 0 {
            cursor.pointee = UInt8(ascii: "-")
            cursor += 1
        }
        writeDigits(of: UInt64(value.magnitude))
    }

    /// Writes `value`'s decimal digits; the caller reserved 20 bytes.
    @inline(__always)
    private mutating func writeDigits(of value: UInt64) {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        var position = cursor + digits
        var magnitude = value
        repeat {
            position -= 1
            position.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude != 0
        cursor += digits
    }
}

extension ByteBuffer {
    /// Appends text produced by `body` through a ``JSONOutput``.
    ///
    /// The first attempt uses `estimate` bytes (at least the space already
    /// free); if `body` overflows, `maximumLength()` bytes are reserved, which
    /// must bound the text, and `body` runs again.
    @inline(__always)
    mutating func writeJSONText(
        estimate: Int,
        maximumLength: () -> Int,
        _ body: (inout JSONOutput) -> Void
    ) {
        var overflowed = false
        writeWithUnsafeMutableBytes(minimumWritableBytes: Swift.max(estimate, 1)) { memory in
            var output = JSONOutput(memory)
            body(&output)
            overflowed = output.overflowed
            return overflowed ? 0 : output.count
        }
        guard overflowed else { return }
        writeWithUnsafeMutableBytes(minimumWritableBytes: Swift.max(maximumLength(), 1)) { memory in
            var output = JSONOutput(memory)
            body(&output)
            precondition(!output.overflowed, "JSON text longer than its bound")
            return output.count
        }
    }
}
