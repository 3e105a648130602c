#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CleverMessaging
import NIOCore

/// A failure of the tool, with a one-line message.
struct ToolError: Error, CustomStringConvertible {
    /// The message.
    var description: String

    /// Creates an error.
    /// - Parameter description: the message.
    init(_ description: String) { self.description = description }

    /// An error naming the current `errno`.
    /// - Parameter what: what failed.
    /// - Returns: the error.
    static func posix(_ what: String, errno code: CInt = errno) -> ToolError {
        ToolError("\(what): \(String(cString: strerror(code)))")
    }
}

/// A file descriptor read in chunks: a named file, or standard input.
final class InputFile {
    /// The descriptor.
    let descriptor: CInt
    private let ownsDescriptor: Bool

    private init(descriptor: CInt, ownsDescriptor: Bool) {
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
    }

    deinit {
        if ownsDescriptor { _ = close(descriptor) }
    }

    /// Standard input.
    static var standardInput: InputFile { InputFile(descriptor: 0, ownsDescriptor: false) }

    /// Opens `path` for reading, or standard input when `path` is `nil` or `"-"`.
    /// - Parameter path: the file.
    /// - Returns: the open file.
    /// - Throws: ``ToolError`` when it cannot be opened.
    static func open(_ path: String?) throws -> InputFile {
        guard let path, path != "-" else { return standardInput }
        let descriptor = openForReading(path)
        guard descriptor >= 0 else { throw ToolError.posix("cannot open \(path)") }
        return InputFile(descriptor: descriptor, ownsDescriptor: true)
    }

    /// The size of a regular file, or `nil` for a pipe, terminal or device.
    /// - Throws: ``ToolError`` when `fstat` fails.
    func regularFileSize() throws -> Int? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw ToolError.posix("cannot stat input") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// Appends up to `maximum` bytes to `buffer`.
    /// - Parameters:
    ///   - buffer: the buffer to append to.
    ///   - maximum: the most bytes to read.
    /// - Returns: the number of bytes read; 0 at end of file.
    /// - Throws: ``ToolError`` on a read error.
    func read(appendingTo buffer: inout ByteBuffer, maximum: Int) throws -> Int {
        var failure: CInt = 0
        let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: maximum) { space in
            while true {
                let n = readDescriptor(descriptor, space.baseAddress!, min(space.count, maximum))
                if n >= 0 { return n }
                if errno == EINTR { continue }
                failure = errno
                return 0
            }
        }
        if failure != 0 { throw ToolError.posix("read error", errno: failure) }
        return count
    }
}

/// Buffered writing to a file descriptor (standard output by default).
struct FileOutput {
    /// The descriptor written to.
    let descriptor: CInt
    /// Bytes not yet written.
    var buffer: ByteBuffer
    /// Buffered bytes beyond which ``flushIfNeeded()`` writes them out.
    let threshold: Int

    /// Creates a stream.
    /// - Parameters:
    ///   - descriptor: the descriptor (default: standard output).
    ///   - threshold: how much to buffer before writing (default 64 KiB).
    init(descriptor: CInt = 1, threshold: Int = 64 * 1024) {
        self.descriptor = descriptor
        self.threshold = threshold
        self.buffer = ByteBufferAllocator().buffer(capacity: threshold + 4096)
    }

    /// Appends a JSON value (Python dialect) and a newline.
    /// - Parameter value: the value.
    mutating func writeLine(_ value: JSONValue) {
        JSONWriter.write(value, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// Appends text.
    /// - Parameter text: the text.
    mutating func write(_ text: String) {
        buffer.writeString(text)
    }

    /// Writes the buffered bytes out once more than ``threshold`` are waiting.
    /// - Throws: ``ToolError`` on a write error.
    mutating func flushIfNeeded() throws {
        if buffer.readableBytes >= threshold { try flush() }
    }

    /// Writes every buffered byte out.
    /// - Throws: ``ToolError`` on a write error.
    mutating func flush() throws {
        let descriptor = self.descriptor
        var failure: CInt = 0
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = writeDescriptor(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if n >= 0 {
                    offset += n
                } else if errno != EINTR {
                    failure = errno
                    return
                }
            }
        }
        buffer.clear()
        if failure != 0 { throw ToolError.posix("write error", errno: failure) }
    }
}

/// Hex text read from standard input (the rest of `Hex` is the library's).
extension Hex {
    /// Decodes hex text arriving in pieces; whitespace between digits is ignored.
    struct StreamDecoder {
        /// The high nibble of a byte whose low nibble has not arrived yet.
        private var pending: UInt8?
        /// How many characters were read so far (for error messages).
        private(set) var offset = 0

        /// Decodes the readable bytes of `text`, appending the bytes to `out`.
        /// - Parameters:
        ///   - text: hex text.
        ///   - out: the buffer to append to.
        /// - Throws: ``ToolError`` on a character that is neither a hex digit nor whitespace.
        mutating func decode(_ text: ByteBuffer, into out: inout ByteBuffer) throws {
            var invalid: (UInt8, Int)?
            var pending = self.pending
            var offset = self.offset
            _ = text.withUnsafeReadableBytes { chars in
                out.writeWithUnsafeMutableBytes(minimumWritableBytes: chars.count / 2 + 1) { space in
                    var written = 0
                    for char in chars {
                        let nibble: UInt8
                        switch char {
                        case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = char &- UInt8(ascii: "0")
                        case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = char &- UInt8(ascii: "a") &+ 10
                        case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = char &- UInt8(ascii: "A") &+ 10
                        case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"), 0x0B, 0x0C:
                            offset += 1
                            continue
                        default:
                            invalid = (char, offset)
                            return written
                        }
                        offset += 1
                        if let high = pending {
                            space[written] = high << 4 | nibble
                            written += 1
                            pending = nil
                        } else {
                            pending = nibble
                        }
                    }
                    return written
                }
            }
            self.pending = pending
            self.offset = offset
            if let (char, at) = invalid {
                let shown = char >= 0x20 && char < 0x7F ? "'\(Character(Unicode.Scalar(char)))'" : "byte 0x\(String(char, radix: 16))"
                throw ToolError("invalid hex input: \(shown) at character \(at)")
            }
        }

        /// Checks that the text did not end in the middle of a byte.
        /// - Throws: ``ToolError`` on an odd number of hex digits.
        func finish() throws {
            if pending != nil { throw ToolError("invalid hex input: odd number of hex digits") }
        }
    }
}

private func openForReading(_ path: String) -> CInt {
    #if canImport(Darwin)
    return Darwin.open(path, O_RDONLY)
    #elseif canImport(Glibc)
    return Glibc.open(path, O_RDONLY)
    #else
    return Musl.open(path, O_RDONLY)
    #endif
}

private func readDescriptor(_ descriptor: CInt, _ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.read(descriptor, pointer, count)
    #elseif canImport(Glibc)
    return Glibc.read(descriptor, pointer, count)
    #else
    return Musl.read(descriptor, pointer, count)
    #endif
}

private func writeDescriptor(_ descriptor: CInt, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.write(descriptor, pointer, count)
    #elseif canImport(Glibc)
    return Glibc.write(descriptor, pointer, count)
    #else
    return Musl.write(descriptor, pointer, count)
    #endif
}
