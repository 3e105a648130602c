import Logging
import NIOCore

/// Receives the body of one binary frame into a file: chunks are written in
/// order on NIO's blocking-I/O pool to a temporary file beside the destination,
/// hashed on the way (``FileSink``); at the end the file is verified against
/// the sender's digest (when given: SHA-256, or the ``FileChecksum`` the peers
/// agreed), synced and renamed over the destination.
/// Any failure, or a link that drops mid-file, removes the temporary file and
/// leaves the destination untouched.
///
/// When the digest follows the body (``ExtensionHeader/sha256Trailer``), the
/// receiver waits after the body for ``digestArrived(_:)``; a trailer that does
/// not come (``digestArrived(_:)`` with `nil`, or ``abort(_:)``) discards the file.
///
/// While the body arrives the link reads in pieces of up to ``readSize`` bytes,
/// ``readsPerCycle`` at a time (``BodyReads``). A chunk of at least
/// ``passThroughMinimum`` bytes (most of a read) goes to the pool as it came off the socket (no
/// copy: NIO's pool of receive buffers reads into another buffer meanwhile and
/// takes this one back once both stages are done with it); smaller chunks are
/// copied into blocks of ``blockSize`` bytes (``FileBlockAssembler``), so that
/// the pool gets one block per job and NIO reads into the same buffer again.
/// Hashing and writing are two stages with one block each in flight: they run
/// at the same time on two pool threads. A block is filled again once both
/// stages are done with it, so a whole file goes through the same few blocks.
///
/// Reading from the socket stops (through the link's ``ReadGate``) while more than
/// ``highWatermark`` bytes wait for the disk, and resumes below ``lowWatermark``,
/// so memory stays bounded whatever the file's size.
///
/// Confined to its channel's event loop.
final class FileReceiver {
    /// Bytes waiting for the disk above which the socket is no longer read.
    /// Small enough that the few blocks in use stay in the CPU's caches: each is
    /// copied into on the event loop, then hashed and written on the pool.
    static let highWatermark = 1 << 20
    /// Bytes waiting for the disk below which reading resumes (the slower stage
    /// still has a block queued after the one it works on, so it does not idle
    /// while the socket refills).
    static let lowWatermark = 3 << 18
    /// Bytes per block: per pool job, per `write(2)`, per progress report.
    static let blockSize = 1 << 18
    /// The largest socket read while a body arrives (a link reads at most 64 KiB otherwise).
    static let readSize = 1 << 18
    /// Socket reads per event-loop cycle while a body arrives: one cycle brings
    /// at most ``readSize`` times this many bytes past ``highWatermark``.
    static let readsPerCycle: UInt = 4
    /// Chunks at least this long (and filling at least half of their receive
    /// buffer, so that what they hold is at most twice what the backlog counts)
    /// go to the pool as they are, without a copy.
    static let passThroughMinimum = 1 << 15

    typealias Completion = (Result<FileTransferResult, MessagingError>) -> Void

    /// How the frame ended.
    private enum Ending {
        case finished
        case aborted(MessagingError)
    }

    private let channel: any Channel
    /// Stops and starts reading the link (shared with the connection's own backpressure).
    private let readGate: ReadGate
    private let destination: String
    private let expectedSize: Int64
    /// The check the sender's digest is computed by.
    private let checksum: FileChecksum
    /// The sender's digest; `""` (matches nothing) when an announced trailer did not come.
    private var expectedDigest: String?
    /// The body announced a trailer with its digest that has not arrived yet.
    private var awaitingDigest: Bool
    private let progress: FileTransferProgressHandler?
    private let afterRename: (@Sendable (String) throws -> Void)?
    private let completion: Completion
    private let sink: EventLoopFuture<FileSink>
    private var hashing = Stage()
    private var writing = Stage()
    /// Copies the chunks into blocks and keeps written blocks for reuse.
    private var blocks = FileBlockAssembler(
        blockSize: FileReceiver.blockSize,
        maximumSpares: FileReceiver.highWatermark / FileReceiver.blockSize + 2
    )
    /// Blocks handed to the stages, in order, until both are done with them, and
    /// whether each is the assembler's (to be filled again) or a chunk passed through.
    private var inFlight = CircularBuffer<(block: ByteBuffer, reusable: Bool)>()
    /// Puts the link's usual reads back when the body ends (`nil` once done, or when they were kept).
    private var reads: BodyReads?
    /// Blocks of `inFlight` already given back (counted like `Stage.completed`).
    private var released = 0
    /// Blocks are given back for reuse (not after the stages' queues were dropped).
    private var recycling = true
    private var received: Int64 = 0
    private var written: Int64 = 0
    /// The first write error: later chunks are dropped, the frame is still read to its end.
    private var failure: MessagingError?
    private var readingPaused = false
    private var ending: Ending?
    private var concluded = false

    /// One of the two things done to every block on the pool (hashing, writing).
    private struct Stage {
        /// Blocks received and not yet handed to the pool.
        var queued = CircularBuffer<ByteBuffer>()
        /// Bytes queued or in the block on the pool.
        var backlog = 0
        /// A block is on the pool.
        var busy = false
        /// Blocks done so far (dropped ones are not counted).
        var completed = 0

        /// Takes the next queued block for the pool.
        mutating func take() -> ByteBuffer? {
            guard !busy, let block = queued.popFirst() else { return nil }
            busy = true
            return block
        }

        mutating func drop() {
            backlog -= queued.reduce(0) { $0 + $1.readableBytes }
            queued.removeAll()
        }

        var isIdle: Bool { !busy && queued.isEmpty }
    }

    /// Starts receiving: creates the temporary file.
    init(
        readGate: ReadGate,
        destination: String,
        expectedSize: Int64,
        checksum: FileChecksum = .sha256,
        expectedDigest: String?,
        digestFollows: Bool = false,
        progress: FileTransferProgressHandler?,
        afterRename: (@Sendable (String) throws -> Void)?,
        completion: @escaping Completion
    ) {
        self.readGate = readGate
        self.channel = readGate.channel
        self.destination = destination
        self.expectedSize = expectedSize
        self.checksum = checksum
        self.expectedDigest = digestFollows ? nil : expectedDigest?.lowercased()
        self.awaitingDigest = digestFollows
        self.progress = progress
        self.afterRename = afterRename
        self.completion = completion
        self.sink = LocalFile.submit(on: readGate.channel.eventLoop) {
            try FileSink.createBlocking(besideDestination: destination, checksum: checksum)
        }
        self.reads = BodyReads.widen(readGate.channel, readSize: Self.readSize, readsPerCycle: Self.readsPerCycle)
    }

    /// Hands the next chunk to the pool as it is (``passThroughMinimum``), or
    /// copies it into the current block, which goes to the pool once full.
    func write(_ chunk: ByteBuffer) {
        guard ending == nil else { return }
        received += Int64(chunk.readableBytes)
        guard failure == nil else { return }
        // A chunk kept holds its whole receive buffer: only one that fills at least half of it.
        if chunk.readableBytes >= Self.passThroughMinimum, chunk.readableBytes * 2 >= chunk.storageCapacity {
            // In order: what was copied before it goes first.
            if let partial = blocks.flush() { enqueue(partial) }
            enqueue(chunk, reusable: false)
        } else {
            var full: [ByteBuffer] = []
            blocks.append(chunk, allocator: channel.allocator, full: &full)
            guard !full.isEmpty else { return }
            for block in full { enqueue(block) }
        }
        pump()
    }

    /// Queues a block for both stages, and stops reading when too much waits.
    /// - Parameter reusable: the block is the assembler's, to be filled again once done.
    private func enqueue(_ block: ByteBuffer, reusable: Bool = true) {
        let count = block.readableBytes
        hashing.queued.append(block)
        hashing.backlog += count
        writing.queued.append(block)
        writing.backlog += count
        if recycling { inFlight.append((block, reusable)) }
        if backlog > Self.highWatermark && !readingPaused {
            readingPaused = true
            readGate.close(for: .fileBacklog)
        }
    }

    /// Bytes held in memory: what the slower stage has not done yet.
    private var backlog: Int { max(hashing.backlog, writing.backlog) }

    /// The last chunk arrived: sync, verify, rename (once what is queued is written).
    func finish() {
        guard ending == nil else { return }
        ending = .finished
        restoreReads()
        if failure == nil, let last = blocks.flush() { enqueue(last) }
        resumeReading()
        pump()
    }

    /// The digest announced to follow the body arrived (`nil`: the next frame was
    /// not the trailer, so the file is not kept). Concludes once the body is written.
    func digestArrived(_ digest: String?) {
        guard awaitingDigest else { return }
        awaitingDigest = false
        expectedDigest = digest?.lowercased() ?? ""
        pump()
    }

    /// The link dropped or the frame was cut (or its trailer did not come): drop the temporary file.
    func abort(_ error: MessagingError) {
        guard ending == nil || (awaitingDigest && !concluded) else { return }
        awaitingDigest = false
        ending = .aborted(error)
        restoreReads()
        dropQueued()
        resumeReading()
        pump()
    }

    /// Hands each stage its next queued block if it has none on the pool; with
    /// nothing left to do and the frame ended, concludes.
    private func pump() {
        guard !concluded else { return }
        let loop = channel.eventLoop
        if let block = hashing.take() {
            sink.flatMap { sink in
                LocalFile.submit(on: loop) { sink.hashBlocking(block) }
            }.assumeIsolated().whenComplete { [self] _ in
                hashing.busy = false
                hashing.backlog -= block.readableBytes
                hashing.completed += 1
                stageDone()
            }
        }
        if let block = writing.take() {
            sink.flatMap { sink in
                LocalFile.submit(on: loop) { try sink.writeBlocking(block) }
            }.assumeIsolated().whenComplete { [self] result in
                writing.busy = false
                writing.backlog -= block.readableBytes
                writing.completed += 1
                switch result {
                case .success:
                    written += Int64(block.readableBytes)
                    progress?(FileTransferProgress(bytesDone: written, totalBytes: expectedSize))
                case .failure(let error):
                    // Keep reading the frame to its end so that the link stays usable.
                    failure = failure ?? Self.fileError(error)
                    dropQueued()
                    resumeReading()
                }
                stageDone()
            }
        }
        // A block that completed at once may have concluded already (re-entrantly).
        guard !concluded, hashing.isIdle, writing.isIdle else { return }
        switch ending {
        case nil: return
        case .finished: if !awaitingDigest { conclude() }
        case .aborted(let error): cleanUpAndFail(error)
        }
    }

    private func stageDone() {
        recycleDoneBlocks()
        if readingPaused && backlog < Self.lowWatermark { resumeReading() }
        pump()
    }

    /// Gives the blocks both stages are done with back to the assembler.
    private func recycleDoneBlocks() {
        guard recycling else { return }
        let done = min(hashing.completed, writing.completed)
        while released < done, let entry = inFlight.popFirst() {
            released += 1
            if entry.reusable { blocks.recycle(entry.block) }
        }
    }

    /// The body ended: the link reads as it did before.
    private func restoreReads() {
        reads.take()?.restore()
    }

    /// Drops what waits for the pool; blocks are no longer reused.
    private func dropQueued() {
        hashing.drop()
        writing.drop()
        recycling = false
        inFlight.removeAll()
        blocks.removeAll()
    }

    /// Everything was written: sync, verify, rename, report.
    private func conclude() {
        if let failure { return cleanUpAndFail(failure) }
        concluded = true
        let expectedDigest = self.expectedDigest
        let checksum = self.checksum
        let destination = self.destination
        let afterRename = self.afterRename
        let size = received
        let loop = channel.eventLoop
        sink.flatMap { sink in
            LocalFile.submit(on: loop) { () throws -> FileTransferResult in
                // Verified first: a file that will be deleted is not worth an fsync.
                let actual = sink.digest()
                if let expectedDigest, expectedDigest != actual {
                    sink.discardBlocking()
                    throw MessagingError.checksumMismatch(expected: expectedDigest, actual: actual)
                }
                do {
                    try sink.syncAndCloseBlocking()
                } catch {
                    sink.discardBlocking()
                    throw error
                }
                do {
                    try sink.file.renameBlocking(to: destination)
                } catch {
                    sink.discardBlocking()
                    throw error
                }
                try afterRename?(destination)
                return FileTransferResult(delivery: .received, bytes: size, checksum: checksum, digest: actual, path: destination)
            }
        }.assumeIsolated().whenComplete { [completion] result in
            completion(result.mapError(Self.fileError))
        }
    }

    private func resumeReading() {
        guard readingPaused else { return }
        readingPaused = false
        readGate.open(for: .fileBacklog)
    }

    /// Closes and removes the temporary file (if it was made), then reports `error`.
    private func cleanUpAndFail(_ error: MessagingError) {
        concluded = true
        let loop = channel.eventLoop
        sink.flatMap { sink in
            LocalFile.submit(on: loop) { sink.discardBlocking() }
        }.assumeIsolated().whenComplete { [completion] _ in
            completion(.failure(error))
        }
    }

    private static func fileError(_ error: any Error) -> MessagingError {
        error as? MessagingError ?? .fileIO(operation: "receive", path: "", errno: 5)
    }
}

@available(*, unavailable)
extension FileReceiver: Sendable {}
