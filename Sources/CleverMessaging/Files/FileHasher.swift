import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The digest (``FileChecksum``) of bytes `0..<size` of an open file, read with `pread` on the
/// blocking-I/O pool while ``FileBodyWriter`` sends the same bytes with
/// `sendfile`: the sender's single pass when the digest follows the body
/// (``ExtensionHeader/sha256Trailer``), instead of a pre-pass before it.
///
/// The file is hashed in spans of ``spanSize`` bytes, one pool job each, so a
/// long file never holds a pool thread for its whole length; every span is read
/// in ``readSize`` pieces into one scratch buffer that stays in the CPU's cache.
final class FileHasher: Sendable {
    /// Bytes hashed per pool job.
    static let spanSize: Int64 = 4 << 20
    /// Bytes per `pread`.
    static let readSize = 256 << 10

    let file: LocalFile
    let size: Int64
    private let hasher: NIOLockedValueBox<FileDigester>

    /// Hashes bytes `0..<size` of `file` (which stays open until ``digest()`` returned) by `checksum`.
    init(file: LocalFile, size: Int64, checksum: FileChecksum) {
        self.file = file
        self.size = size
        self.hasher = NIOLockedValueBox(FileDigester(checksum))
    }

    /// Hashes the whole range, span by span, and returns the lowercase hex digest.
    /// Stops early (with `.connectionLost)`) when its task is cancelled.
    /// - Throws: ``MessagingError/fileIO(operation:path:errno:)`` with operation `read`
    ///   when a read fails or the file ends before `size` (it shrank).
    func digest() async throws(MessagingError) -> String {
        var offset: Int64 = 0
        while offset < size {
            if Task.isCancelled { throw .connectionLost }
            let end = min(offset + Self.spanSize, size)
            let start = offset
            try await LocalFile.run { () throws(MessagingError) in try self.hashBlocking(from: start, to: end) }
            offset = end
        }
        return hasher.withLockedValue { $0.hexDigest() }
    }

    /// Reads and hashes bytes `start..<end`. Blocking; one call at a time, in order.
    private func hashBlocking(from start: Int64, to end: Int64) throws(MessagingError) {
        let fd = file.descriptor
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readSize, alignment: 64)
        defer { scratch.deallocate() }
        let path = file.path
        try hasher.withLockedValue { hasher in
            Result { () throws(MessagingError) in
                try Self.hash(fd: fd, path: path, from: start, to: end, scratch: scratch, into: &hasher)
            }
        }.get()
    }

    /// Reads bytes `start..<end` of `fd` through `scratch` into `hasher`. Blocking.
    private static func hash(
        fd: CInt,
        path: String,
        from start: Int64,
        to end: Int64,
        scratch: UnsafeMutableRawBufferPointer,
        into hasher: inout FileDigester
    ) throws(MessagingError) {
        var offset = start
        while offset < end {
            let want = Int(min(Int64(Self.readSize), end - offset))
            let n = pread(fd, scratch.baseAddress, want, off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                throw MessagingError.fileIO(operation: "read", path: path, errno: errno)
            }
            // The file ended before `size`: it shrank while it was sent.
            if n == 0 { throw MessagingError.fileIO(operation: "read", path: path, errno: EIO) }
            hasher.update(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            offset += Int64(n)
        }
    }
}
