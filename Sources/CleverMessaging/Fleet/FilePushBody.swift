import Crypto
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a file push sends: an open file and its size and, when the file was
/// prepared once for many pushes (``GroundStation/pushFile(_:to:drones:maximumConcurrent:acknowledgementTimeout:progress:)``),
/// its SHA-256 and, for a small file, its whole content in one immutable
/// buffer that every push writes (the buffer's storage is shared, never copied).
///
/// A push with a digest sends it in the frame's header, so no push hashes the
/// file again; a push without one hashes it as before (in a trailer to a peer
/// of this library, in a pass before the body to any other).
struct FilePushBody: Sendable {
    /// The file, open for reading (closed by whoever opened it).
    let file: LocalFile
    /// Its size in bytes.
    let size: Int64
    /// Its SHA-256, lowercase hex, when already computed.
    let sha256: String?
    /// Its whole content, when read into memory once.
    let bytes: ByteBuffer?

    /// The bytes of a buffered body written per `write`, and per progress report.
    static let sliceSize = 1 << 20
    /// How many slices may wait in the channel.
    static let slicesInFlight = 16

    init(file: LocalFile, size: Int64, sha256: String? = nil, bytes: ByteBuffer? = nil) {
        self.file = file
        self.size = size
        self.sha256 = sha256
        self.bytes = bytes
    }

    /// Opens `path` and computes its digest once: a file of at most
    /// `inMemoryLimit` bytes is read once, into memory, and hashed from there;
    /// a larger one is hashed in a pass and later streamed from the disk.
    /// The caller closes ``file``.
    /// - Throws: ``MessagingError`` when the file cannot be opened or read.
    static func prepare(_ path: String, inMemoryLimit: Int) async throws(MessagingError) -> FilePushBody {
        let (file, size) = try await LocalFile.openForReading(path)
        do throws(MessagingError) {
            guard size <= Int64(inMemoryLimit) else {
                return FilePushBody(file: file, size: size, sha256: try await file.sha256(size: size))
            }
            let (bytes, digest) = try await LocalFile.run { () throws(MessagingError) -> (ByteBuffer, String) in
                try readAllBlocking(file, size: size)
            }
            return FilePushBody(file: file, size: size, sha256: digest, bytes: bytes)
        } catch {
            file.closeBlocking()
            throw error
        }
    }

    /// Reads the file's `size` bytes into one buffer and hashes them. Blocking.
    private static func readAllBlocking(_ file: LocalFile, size: Int64) throws(MessagingError) -> (ByteBuffer, String) {
        let count = Int(size)
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var failure: Int32?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            var offset = 0
            while offset < count {
                let n = pread(file.descriptor, raw.baseAddress! + offset, count - offset, off_t(offset))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }
                offset += n
            }
            return offset
        }
        if let failure { throw .fileIO(operation: "read", path: file.path, errno: failure) }
        // The file shrank while it was read: its announced size cannot be sent.
        guard buffer.readableBytes == count else { throw .fileIO(operation: "read", path: file.path, errno: EIO) }
        var hasher = SHA256()
        buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        return (buffer, hexString(hasher.finalize()))
    }

    /// Writes the buffered content to `channel` in slices that share its storage,
    /// reporting progress as each slice is written.
    /// - Throws: ``MessagingError/connectionLost`` when a write failed.
    static func write(_ bytes: ByteBuffer, to channel: any Channel, progress: FileTransferProgressHandler?) async throws(MessagingError) {
        let size = Int64(bytes.readableBytes)
        var writes = CircularBuffer<(end: Int64, future: EventLoopFuture<Void>)>(initialCapacity: slicesInFlight + 1)
        var failure: MessagingError?
        var offset = 0
        while offset < bytes.readableBytes && failure == nil {
            let length = min(sliceSize, bytes.readableBytes - offset)
            let slice = bytes.getSlice(at: bytes.readerIndex + offset, length: length)!
            offset += length
            writes.append((Int64(offset), channel.writeAndFlush(slice)))
            if writes.count > slicesInFlight {
                failure = await FileBodyWriter.written(writes.removeFirst(), size: size, progress: progress)
            }
        }
        while let write = writes.popFirst() {
            let error = await FileBodyWriter.written(write, size: size, progress: failure == nil ? progress : nil)
            failure = failure ?? error
        }
        if let failure { throw failure }
    }
}
