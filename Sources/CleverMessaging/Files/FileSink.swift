import NIOConcurrencyHelpers
import NIOCore

/// The blocking half of a ``FileReceiver``: appends blocks to the temporary
/// file and, separately, to its digest (two stages that the receiver runs on
/// two pool threads at once), and starts the disk's writeback
/// as it goes so that the final `fsync` has little left to do.
///
/// Every method blocks: call them on NIO's blocking-I/O pool. Each stage takes
/// one block at a time, in order; ``digest()`` and ``syncAndCloseBlocking()`` come after both.
final class FileSink: Sendable {
    /// Bytes per writeback window: each full window is handed to the disk at once.
    static let writebackWindow: Int64 = 8 << 20
    /// Windows handed to the disk but not waited for; beyond that the writer
    /// waits for the oldest, which bounds the dirty pages a transfer leaves.
    static let windowsInFlight: Int64 = 4

    /// The temporary file.
    let file: LocalFile
    private let hasher: NIOLockedValueBox<FileDigester>
    private let progress = NIOLockedValueBox(WriteProgress())

    private struct WriteProgress {
        /// Bytes written so far.
        var written: Int64 = 0
        /// Writeback was started for `0..<started`.
        var started: Int64 = 0
        /// Writeback was waited for on `0..<settled`.
        var settled: Int64 = 0
    }

    /// Wraps a temporary file just created, to be hashed by `checksum`.
    init(file: LocalFile, checksum: FileChecksum) {
        self.file = file
        self.hasher = NIOLockedValueBox(FileDigester(checksum))
    }

    /// Creates the temporary file beside `destination`. Blocking.
    static func createBlocking(besideDestination destination: String, checksum: FileChecksum) throws(MessagingError) -> FileSink {
        FileSink(file: try LocalFile.createTemporaryBlocking(besideDestination: destination), checksum: checksum)
    }

    /// Adds `block` to the digest. May run at the same time as
    /// ``writeBlocking(_:)`` (on another pool thread); one call at a time. Blocking.
    func hashBlocking(_ block: ByteBuffer) {
        hasher.withLockedValue { hasher in
            block.withUnsafeReadableBytes { hasher.update($0) }
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
