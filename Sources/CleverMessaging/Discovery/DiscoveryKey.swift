import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The shared secret that signs and verifies discovery beacons (opt-in).
///
/// A ``DiscoveryBeacon`` given a key adds an HMAC-SHA256 and the signing time
/// to each datagram's header (see ``BeaconVerifier`` for the format); a
/// ``DiscoveryListener`` given the same key ignores every beacon that is
/// unsigned, wrongly signed, or signed outside its replay window. Without a
/// key, beacons are exactly the reference's and listeners accept any.
///
/// The key is never printed: its description shows only its length.
/// Two keys are equal when their bytes are (compared in constant time).
public struct DiscoveryKey: Sendable, Hashable {
    /// The secret's bytes.
    let bytes: [UInt8]

    /// Creates a key from its secret bytes.
    /// - Parameter secret: the secret; must not be empty.
    /// - Throws: ``DiscoveryKeyError/empty(path:)`` (with no path) when it is.
    public init(_ secret: some Sequence<UInt8>) throws(DiscoveryKeyError) {
        let bytes = Array(secret)
        guard !bytes.isEmpty else { throw .empty(path: nil) }
        self.bytes = bytes
    }

    /// Creates a key from the UTF-8 bytes of `secret`.
    /// - Parameter secret: the secret text; must not be empty.
    /// - Throws: ``DiscoveryKeyError/empty(path:)`` (with no path) when it is.
    public init(text secret: String) throws(DiscoveryKeyError) {
        try self.init(Array(secret.utf8))
    }

    /// Reads a key from a file: the key is the file's first line (without its
    /// line break, `\n` or `\r\n`), which must hold something other than spaces
    /// and tabs. The rest of the file is ignored.
    /// - Parameter path: the file.
    /// - Throws: ``DiscoveryKeyError/unreadable(path:reason:)`` when the file
    ///   cannot be read, ``DiscoveryKeyError/empty(path:)`` when its first line is blank.
    public init(contentsOfFile path: String) throws(DiscoveryKeyError) {
        let contents = try Self.readPrefix(path: path, limit: 64 * 1024)
        try self.init(firstLineOf: contents, path: path)
    }

    /// Takes the key from the first line of a file's `contents`.
    /// - Parameters:
    ///   - contents: the file's bytes (or their beginning).
    ///   - path: the file, for errors.
    /// - Throws: ``DiscoveryKeyError/empty(path:)`` when the first line is blank.
    init(firstLineOf contents: [UInt8], path: String) throws(DiscoveryKeyError) {
        var line = contents.prefix { $0 != UInt8(ascii: "\n") }
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else {
            throw .empty(path: path)
        }
        self.bytes = Array(line)
    }

    /// The length of the secret in bytes.
    public var count: Int { bytes.count }

    /// The HMAC-SHA256 of `message` under this key.
    func authenticationCode(for message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: bytes)))
    }

    /// Whether `code` is the HMAC-SHA256 of `message` under this key (compared in constant time).
    func isValid(_ code: [UInt8], for message: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: SymmetricKey(data: bytes))
    }

    /// Compares the secrets in constant time (for their common length).
    /// - Parameters:
    ///   - lhs: a key.
    ///   - rhs: another key.
    /// - Returns: whether the secrets are the same bytes.
    public static func == (lhs: DiscoveryKey, rhs: DiscoveryKey) -> Bool {
        guard lhs.bytes.count == rhs.bytes.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs.bytes, rhs.bytes) { difference |= a ^ b }
        return difference == 0
    }

    /// Hashes the secret's length only (equal keys have equal lengths).
    /// - Parameter hasher: the hasher.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.count)
    }

    /// Reads at most `limit` bytes from the start of the file at `path`.
    private static func readPrefix(path: String, limit: Int) throws(DiscoveryKeyError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: LogFormat.systemError(errno)) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while result.count < limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: LogFormat.systemError(errno))
            }
            if n == 0 { break }
            result += chunk[..<n]
            if chunk[..<n].contains(UInt8(ascii: "\n")) { break }
        }
        return result
    }
}

extension DiscoveryKey: CustomStringConvertible, CustomDebugStringConvertible {
    /// `DiscoveryKey(<N bytes>)`: the secret itself is never shown.
    public var description: String { "DiscoveryKey(<\(bytes.count) bytes>)" }
    /// The same as ``description``.
    public var debugDescription: String { description }
}
