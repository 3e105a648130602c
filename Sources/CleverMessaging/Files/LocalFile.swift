import Crypto
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor whose blocking calls run on NIO's thread pool for
/// blocking I/O (`NIOThreadPool`), never on an event loop.
///
/// Closing is the owner's job, after every operation on it has finished;
/// closing twice is harmless (the descriptor is closed once).
final class LocalFile: Sendable {
    let descriptor: CInt
    let path: String
    private let closed = NIOLockedValueBox(false)

    private init(descriptor: CInt, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    static var pool: NIOThreadPool { NIOThreadPool.singleton }

    /// Opens a regular file for reading and returns it with its size.
    static func openForReading(_ path: String) async throws(MessagingError) -> (LocalFile, Int64) {
        try await run { () throws(MessagingError) -> (LocalFile, Int64) in
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw MessagingError.fileIO(operation: "open", path: path, errno: errno) }
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                let e = errno
                close(fd)
                throw MessagingError.fileIO(operation: "stat", path: path, errno: e)
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                close(fd)
                throw MessagingError.notRegularFile(path)
            }
            return (LocalFile(descriptor: fd, path: path), Int64(info.st_size))
        }
    }

    /// Creates a new, empty temporary file next to `destination` (same directory,
    /// so the final rename is atomic), exclusively, never following a link. Blocking.
    static func createTemporaryBlocking(besideDestination destination: String) throws(MessagingError) -> LocalFile {
        do {
            let slash = destination.lastIndex(of: "/")
            let directory = slash.map { String(destination[..<$0]) } ?? "."
            let name = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
            for _ in 0..<8 {
                let tag = String(UInt64.random(in: 0...UInt64.max), radix: 16)
                let temporary = "\(directory.isEmpty ? "" : directory)/.\(name.prefix(200)).\(tag).part"
                let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
                if fd >= 0 { return LocalFile(descriptor: fd, path: temporary) }
                if errno != EEXIST { throw MessagingError.fileIO(operation: "create", path: temporary, errno: errno) }
            }
            throw MessagingError.fileIO(operation: "create", path: destination, errno: EEXIST)
        }
    }

    /// Moves this (temporary) file over `destination` atomically. Blocking.
    func renameBlocking(to destination: String) throws(MessagingError) {
        if rename(path, destination) != 0 { throw MessagingError.fileIO(operation: "rename", path: destination, errno: errno) }
    }

    /// Removes this file's name (a temporary file that will not be used). Blocking.
    func unlinkBlocking() {
        _ = unlink(path)
    }

    /// A new descriptor for the same open file (close-on-exec), owned by the caller.
    func duplicateDescriptor() throws(MessagingError) -> CInt {
        let fd = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard fd >= 0 else { throw MessagingError.fileIO(operation: "dup", path: path, errno: errno) }
        return fd
    }

    /// The current size of the file open at `fd`, or `nil` if `fstat` fails. Cheap, does not wait for the disk.
    static func sizeBlocking(of fd: CInt) -> Int64? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Hashes the whole file in chunks (the sender's pre-pass for ``ExtensionHeader/sha256``).
    func sha256(size: Int64, chunk: Int = 256 << 10) async throws(MessagingError) -> String {
        let fd = descriptor
        let path = path
        return try await Self.run { () throws(MessagingError) -> String in
            var hasher = SHA256()
            var scratch = [UInt8](repeating: 0, count: chunk)
            var offset: Int64 = 0
            while offset < size {
                let n = scratch.withUnsafeMutableBytes { pread(fd, $0.baseAddress, chunk, off_t(offset)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw MessagingError.fileIO(operation: "read", path: path, errno: errno)
                }
                if n == 0 { break }
                scratch.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                offset += Int64(n)
            }
            return hexString(hasher.finalize())
        }
    }

    /// Writes all of `buffer` at the end of what was written (blocking; call on the pool).
    func writeAllBlocking(_ buffer: ByteBuffer) throws(MessagingError) {
        var remaining = buffer
        while remaining.readableBytes > 0 {
            let n = remaining.withUnsafeReadableBytes { write(descriptor, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw MessagingError.fileIO(operation: "write", path: path, errno: errno)
            }
            remaining.moveReaderIndex(forwardBy: n)
        }
    }

    /// Asks the kernel to start writing `count` bytes at `offset` to the disk
    /// without waiting (`sync_file_range(SYNC_FILE_RANGE_WRITE)`), so that the
    /// disk works while the rest of the file arrives. A file system that does not
    /// support it (or a platform without it) is left to ``syncBlocking()``. Blocking.
    func startWritebackBlocking(offset: Int64, count: Int64) throws(MessagingError) {
        try Self.syncFileRange(descriptor, offset: offset, count: count, flags: Self.syncFileRangeWrite, path: path)
    }

    /// Starts the writeback of `count` bytes at `offset` if needed and waits
    /// until they are on the disk. Blocking.
    func awaitWritebackBlocking(offset: Int64, count: Int64) throws(MessagingError) {
        try Self.syncFileRange(
            descriptor,
            offset: offset,
            count: count,
            flags: Self.syncFileRangeWaitBefore | Self.syncFileRangeWrite | Self.syncFileRangeWaitAfter,
            path: path
        )
    }

    // The Linux ABI values of `SYNC_FILE_RANGE_*` (the Glibc module does not export them).
    private static let syncFileRangeWaitBefore: UInt32 = 1
    private static let syncFileRangeWrite: UInt32 = 2
    private static let syncFileRangeWaitAfter: UInt32 = 4

    private typealias SyncFileRange = @convention(c) (CInt, Int64, Int64, UInt32) -> CInt

    /// `sync_file_range(2)`, looked up once (the Glibc module hides it behind `_GNU_SOURCE`).
    private static let syncFileRangeFunction: SyncFileRange? = {
        #if os(Linux)
        guard let symbol = dlsym(nil, "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: SyncFileRange.self)
        #else
        return nil
        #endif
    }()

    private static func syncFileRange(_ fd: CInt, offset: Int64, count: Int64, flags: UInt32, path: String) throws(MessagingError) {
        guard let function = syncFileRangeFunction else { return }
        while function(fd, offset, count, flags) != 0 {
            switch errno {
            case EINTR: continue
            // Not supported here: the final fsync does all the work.
            case ENOSYS, EINVAL, ESPIPE, EOPNOTSUPP: return
            // A write error: the kernel reports it once, so it must not be lost here.
            case let e: throw MessagingError.fileIO(operation: "sync_file_range", path: path, errno: e)
            }
        }
    }

    /// Flushes to disk (blocking).
    func syncBlocking() throws(MessagingError) {
        if fsync(descriptor) != 0 { throw MessagingError.fileIO(operation: "fsync", path: path, errno: errno) }
    }

    /// Closes the descriptor (blocking, cheap).
    func closeBlocking() {
        let wasClosed = closed.withLockedValue { c -> Bool in
            defer { c = true }
            return c
        }
        if !wasClosed { _ = close(descriptor) }
    }

    /// Runs `body` on NIO's blocking-I/O thread pool.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(MessagingError) -> T) async throws(MessagingError) -> T {
        do {
            return try await pool.runIfActive { () throws -> T in try body() }
        } catch let error as MessagingError {
            throw error
        } catch {
            throw MessagingError.fileIO(operation: "thread pool", path: "", errno: EIO)
        }
    }

    /// Runs `body` on the pool and returns a future on `eventLoop`.
    static func submit<T: Sendable>(on eventLoop: any EventLoop, _ body: @escaping @Sendable () throws -> T) -> EventLoopFuture<T> {
        pool.runIfActive(eventLoop: eventLoop, body)
    }
}

/// Lowercase hex of a digest.
func hexString(_ digest: some Sequence<UInt8>) -> String {
    let hex = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in digest {
        out.append(hex[Int(byte >> 4)])
        out.append(hex[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}
