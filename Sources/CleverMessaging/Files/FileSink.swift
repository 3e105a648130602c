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
/// There the file is set to its full size up front and the hashing stage, which
/// has time to spare, makes the pages present ``pagesAhead`` bytes ahead of
/// what it hashed (``LocalFile/populateBlocking(offset:count:)``), so that the
/// two stages take turns with the memory instead of one doing all of it.
///
/// Every method blocks: call them on NIO's blocking-I/O pool. Each stage takes
/// one block at a time, in order; ``digest()`` and ``syncAndCloseBlocking()`` come after both.
final class FileSink: Sendable {
    /// How far ahead of the hashed bytes the pages of a tmpfs file are made present.
    static let pagesAhead: Int64 = 4 << 20
    /// The most bytes of pages made present per hashed block (one mapping at a time).
    static let pagesPerStep: Int64 = 1 << 20
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

    private struct PagesAhead {
        /// The file's full size.
        let size: Int64
        /// Bytes hashed so far.
        var hashed: Int64 = 0
        /// Pages are present for `0..<present`.
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
        guard expectedSize >= pagesAhead, file.isOnTmpfsBlocking() else { return FileSink(file: file, checksum: checksum) }
        do {
            try file.setSizeBlocking(expectedSize)
        } catch {
            file.closeBlocking()
            file.unlinkBlocking()
            throw error
        }
        return FileSink(file: file, checksum: checksum, pagesOf: expectedSize)
    }

    /// Adds `block` to the digest, then (on tmpfs) makes the file's pages present
    /// ahead of it. May run at the same time as ``writeBlocking(_:)`` (on another
    /// pool thread); one call at a time. Blocking.
    func hashBlocking(_ block: ByteBuffer) {
        hasher.withLockedValue { hasher in
            block.withUnsafeReadableBytes { hasher.update($0) }
        }
        pages?.withLockedValue { ahead in
            ahead.hashed += Int64(block.readableBytes)
            let target = min(ahead.size, ahead.hashed + Self.pagesAhead)
            guard !ahead.stopped, target > ahead.present else { return }
            // Whole pages only, up to the end of the file (which is within its last page).
            let page = LocalFile.pageSize
            let end = min(ahead.present + Self.pagesPerStep, target == ahead.size ? target : target / page * page)
            guard end > ahead.present else { return }
            if file.populateBlocking(offset: ahead.present, count: Int(end - ahead.present)) {
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
