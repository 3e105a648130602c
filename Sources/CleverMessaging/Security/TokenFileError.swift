#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A token file that cannot be used: unreadable, empty or malformed.
public struct TokenFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file's path, when known.
    public var path: String?
    /// The line at fault (from 1), when there is one.
    public var line: Int?
    /// What is wrong.
    public var reason: String

    /// An error.
    /// - Parameters:
    ///   - path: the file's path.
    ///   - line: the line at fault.
    ///   - reason: what is wrong.
    public init(path: String? = nil, line: Int?, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    /// One line, such as `token file tokens.txt, line 3: id copter-1 has two tokens`.
    public var description: String {
        var text = "token file"
        if let path { text += " \(path)" }
        if let line { text += ", line \(line)" }
        return text + ": \(reason)"
    }

    /// The same error, naming the file.
    func at(_ path: String) -> TokenFileError {
        var error = self
        error.path = path
        return error
    }

    /// The lines that hold words, with their numbers (from 1): blank lines and `#` comments skipped.
    static func lines(of text: String) -> [(Int, [String])] {
        var result: [(Int, [String])] = []
        // `\r\n` is one Character, a newline: Windows line ends are taken as well.
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            result.append((index + 1, fields))
        }
        return result
    }

    /// Reads a whole (small) file as UTF-8 text.
    static func read(_ path: String) throws(TokenFileError) -> String {
        guard let file = fopen(path, "rb") else {
            throw TokenFileError(path: path, line: nil, reason: "cannot read: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if count < chunk.count { break }
            guard bytes.count <= 1 << 20 else { throw TokenFileError(path: path, line: nil, reason: "larger than 1 MiB") }
        }
        if ferror(file) != 0 { throw TokenFileError(path: path, line: nil, reason: "cannot read: \(String(cString: strerror(errno)))") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TokenFileError(path: path, line: nil, reason: "not UTF-8 text")
        }
        return text
    }
}
