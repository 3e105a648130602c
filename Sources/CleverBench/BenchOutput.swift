import CleverMessaging
import Foundation
import NIOCore

/// Unbuffered output of whole lines: each call hands its bytes to `write`
/// at once, so a line is out before the next step of a measurement starts,
/// and a parent reading a child's output sees each report as it is made.
enum BenchOutput {
    /// The descriptor of standard output.
    static let standardOutput: CInt = 1
    /// The descriptor of standard error.
    static let standardError: CInt = 2

    /// Writes `text` (write errors are ignored: there is nowhere to report them).
    /// - Parameters:
    ///   - text: the text, usually ending in a newline.
    ///   - descriptor: where to (default: standard output).
    static func write(_ text: String, to descriptor: CInt = standardOutput) {
        var bytes = ByteBuffer()
        bytes.writeString(text)
        write(bytes, to: descriptor)
    }

    /// Writes a JSON value (Python dialect) and a newline.
    /// - Parameters:
    ///   - value: the value.
    ///   - descriptor: where to (default: standard output).
    static func writeLine(_ value: JSONValue, to descriptor: CInt = standardOutput) {
        var bytes = ByteBuffer()
        JSONWriter.write(value, into: &bytes)
        bytes.writeInteger(UInt8(ascii: "\n"))
        write(bytes, to: descriptor)
    }

    /// Writes every readable byte of `bytes` (FileHandle retries short and interrupted writes).
    private static func write(_ bytes: ByteBuffer, to descriptor: CInt) {
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        try? handle.write(contentsOf: Data(bytes.readableBytesView))
    }
}
