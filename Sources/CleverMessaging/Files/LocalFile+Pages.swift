#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension LocalFile {
    /// The memory page size: ``populateBlocking(offset:count:)`` takes offsets that are multiples of it.
    static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// Whether the file lives on tmpfs (its pages are memory that nothing writes back). Blocking, cheap.
    func isOnTmpfsBlocking() -> Bool {
        #if os(Linux)
        guard let function = Self.fstatfsFunction else { return false }
        // `struct statfs` (120 bytes on 64-bit Linux) begins with `f_type`, a `long`.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 16)
        defer { buffer.deallocate() }
        guard function(descriptor, buffer) == 0 else { return false }
        return buffer.load(as: Int.self) == Self.tmpfsMagic
        #else
        return false
        #endif
    }

    /// Sets the file's size (`ftruncate`): on tmpfs a hole, no memory taken. Blocking.
    func setSizeBlocking(_ size: Int64) throws(MessagingError) {
        while ftruncate(descriptor, off_t(size)) != 0 {
            if errno == EINTR { continue }
            throw MessagingError.fileIO(operation: "truncate", path: path, errno: errno)
        }
    }

    /// Makes the file's pages for `count` bytes at `offset` (a multiple of the
    /// page size, within the file's size) present, allocated and zeroed where
    /// new, without writing into them: a shared mapping of the range, populated
    /// for writing (`MADV_POPULATE_WRITE`, Linux 5.14) and unmapped. A later
    /// `write(2)` of those bytes then only copies. Blocking.
    /// - Returns: `false` when the kernel does not (an older kernel, a full file
    ///   system: no signal, an error), so that the caller stops asking; the
    ///   write itself then takes the pages and reports what it must.
    func populateBlocking(offset: Int64, count: Int) -> Bool {
        #if os(Linux)
        guard count > 0 else { return true }
        guard let mapping = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, off_t(offset)), mapping != MAP_FAILED else {
            return false
        }
        defer { munmap(mapping, count) }
        while madvise(mapping, count, Self.populateWrite) != 0 {
            if errno == EINTR { continue }
            return false
        }
        return true
        #else
        return false
        #endif
    }

    /// `TMPFS_MAGIC`, the `f_type` of a tmpfs file system.
    private static let tmpfsMagic = 0x0102_1994
    /// `MADV_POPULATE_WRITE` (Linux ABI value; the Glibc module may not export it).
    private static let populateWrite: CInt = 23

    private typealias FileSystemStatus = @convention(c) (CInt, UnsafeMutableRawPointer) -> CInt

    /// `fstatfs(2)`, looked up once (the Glibc module does not export `struct statfs`).
    private static let fstatfsFunction: FileSystemStatus? = {
        #if os(Linux)
        guard let symbol = dlsym(nil, "fstatfs") else { return nil }
        return unsafeBitCast(symbol, to: FileSystemStatus.self)
        #else
        return nil
        #endif
    }()
}
