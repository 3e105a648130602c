import NIOConcurrencyHelpers
import NIOCore

/// The blocking half of a ``FileReceiver``: appends blocks to the temporary
/// file and, separately, to its digest (two stages that the receiver runs on
/// two pool threads at once), and starts the disk's writeback
/// as it goes so that the final `fsync` has little left to do.
///
/// On tmpfs the file's pages are memory the writer would otherwise take one by
/// one inside its `write(2)` calls: taking a page is most of a write's cost
/// where memory is slow to touch for the first time (a virtual machine whose
/// host backs a guest's memory only when it is used, as Firecracker's does).
/// There the file is set to its full size up front, and the hashing stage,
/// whenever it has caught up with the writer, makes the next ``pagesPerStep``
/// bytes of pages beyond the block being written present
/// (``LocalFile/populateBlocking(offset:count:)``): the two stages share the
/// taking of pages, each on its own thread, instead of the writer doing all of it.
///
/// Every method blocks: call them on NIO's blocking-I/O pool. Each stage takes
/// one block at a time, in order; ``digest()`` and ``syncAndCloseBlocking()`` come after both.
final class FileSink: Sendable {
    /// Bytes of a tmpfs file's pages made present per step (one mapping at a time),
    /// and the bytes of the writer's own block that a step stays clear of.
    static let pagesPerStep: Int64 = 1 << 18
    /// The least size of a tmpfs file whose pages are made ahead.
    static let pagesAheadMinimum: Int64 = 4 << 20
    /// Bytes per writeback window: each full window is handed to the disk at once.
    static let writebackWindow: Int64 = 8 << 20
    /// Windows handed to the disk but not waited for; beyond that the writer
    /// waits for the oldest, which bounds the dirty pages a transfer leaves.
    static let windowsInFlight: Int64 = 4

    /// The temporary file.
    let file: LocalFile
    private let hasher: NIOLockedValueBox<FileDigester>
    private let progress = NIOLockedValueBox(WriteProgress())
    /// Where the pages of a tmpfs file are made ahead of the writer; `nil` elsewhere.
    private let pages: NIOLockedValueBox<PagesAhead>?

    /// Bytes written so far, as the hashing stage sees them (apart from
    /// `progress`, which the writer holds while it writes).
    private let writtenBytes = NIOLockedValueBox<Int64>(0)

    private struct PagesAhead {
        /// The file's full size.
        let size: Int64
        /// Bytes hashed so far.
        var hashed: Int64 = 0
        /// Pages were made present up to here.
        var present: Int64 = 0
        /// The kernel refused once: no more.
        var stopped = false
    }

    private struct WriteProgress {
        /// Bytes written so far.
        var written: Int64 = 0
        /// Writeback was started for `0..<started`.
        var started: Int64 = 0
        /// Writeback was waited for on `0..<settled`.
        var settled: Int64 = 0
    }

    /// Wraps a temporary file just created, to be hashed by `checksum`; with
    /// `pagesOf`, a tmpfs file already set to that size whose pages are made ahead.
    init(file: LocalFile, checksum: FileChecksum, pagesOf size: Int64? = nil) {
        self.file = file
        self.hasher = NIOLockedValueBox(FileDigester(checksum))
        self.pages = size.map { NIOLockedValueBox(PagesAhead(size: $0)) }
    }

    /// Creates the temporary file beside `destination`, for a body of `expectedSize` bytes. Blocking.
    static func createBlocking(
        besideDestination destination: String,
        checksum: FileChecksum,
        expectedSize: Int64 = 0
    ) throws(MessagingError) -> FileSink {
        let file = try LocalFile.createTemporaryBlocking(besideDestination: destination)
        guard expectedSize >= pagesAheadMinimum, file.isOnTmpfsBlocking() else { return FileSink(file: file, checksum: checksum) }
        do {
            try file.setSizeBlocking(expectedSize)
        } catch {
            file.closeBlocking()
            file.unlinkBlocking()
            throw error
        }
        return FileSink(file: file, checksum: checksum, pagesOf: expectedSize)
    }

    /// Adds `block` to the digest, then (on tmpfs, caught up with the writer) makes
    /// the next pages the writer needs present. May run at the same time as
    /// ``writeBlocking(_:)`` (on another pool thread); one call at a time. Blocking.
    func hashBlocking(_ block: ByteBuffer) {
        hasher.withLockedValue { hasher in
            block.withUnsafeReadableBytes { hasher.update($0) }
        }
        guard let pages else { return }
        let written = writtenBytes.withLockedValue { $0 }
        pages.withLockedValue { ahead in
            ahead.hashed += Int64(block.readableBytes)
            // Behind the writer: hashing is this stage's work, the writer takes its own pages.
            guard !ahead.stopped, ahead.hashed >= written else { return }
            let step = Self.pagesPerStep
            // Clear of the block being written; whole pages from a page boundary.
            let start = max(ahead.present, (written + step) / LocalFile.pageSize * LocalFile.pageSize)
            let end = min(start + step, ahead.size)
            guard end > start else { return }
            if file.populateBlocking(offset: start, count: Int(end - start)) {
                ahead.present = end
            } else {
                ahead.stopped = true
            }
        }
    }

    /// Writes `block`, then starts (and, beyond ``windowsInFlight``
    /// windows, waits for) the writeback of whole windows. One call at a time. Blocking.
    func writeBlocking(_ block: ByteBuffer) throws(MessagingError) {
        try withProgress { p throws(MessagingError) in
            try file.writeAllBlocking(block)
            p.written += Int64(block.readableBytes)
            if pages != nil { writtenBytes.withLockedValue { [written = p.written] in $0 = written } }
            let window = Self.writebackWindow
            while p.written - p.started >= window {
                try file.startWritebackBlocking(offset: p.started, count: window)
                p.started += window
                if p.started - p.settled > window * Self.windowsInFlight {
                    try file.awaitWritebackBlocking(offset: p.settled, count: window)
                    p.settled += window
                }
            }
        }
    }

    /// The lowercase hex digest of everything hashed so far (call once both stages are done).
    func digest() -> String {
        hasher.withLockedValue { $0.hexDigest() }
    }

    /// Syncs the file to the disk and closes it. Blocking.
    func syncAndCloseBlocking() throws(MessagingError) {
        try file.syncBlocking()
        file.closeBlocking()
    }

    /// Closes and removes the temporary file. Blocking.
    func discardBlocking() {
        file.closeBlocking()
        file.unlinkBlocking()
    }

    private func withProgress<T>(_ body: (inout WriteProgress) throws(MessagingError) -> T) throws(MessagingError) -> T {
        try progress.withLockedValue { p in Result { () throws(MessagingError) in try body(&p) } }.get()
    }
}
