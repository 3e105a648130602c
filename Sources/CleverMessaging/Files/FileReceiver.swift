import Logging
import NIOCore

/// Receives the body of one binary frame into a file: chunks are written in
/// order on NIO's blocking-I/O pool to a temporary file beside the destination,
/// hashed on the way (``FileSink``); at the end the file is verified against
/// the sender's SHA-256 (when given), synced and renamed over the destination.
/// Any failure, or a link that drops mid-file, removes the temporary file and
/// leaves the destination untouched.
///
/// When the digest follows the body (``ExtensionHeader/sha256Trailer``), the
/// receiver waits after the body for ``digestArrived(_:)``; a trailer that does
/// not come (``digestArrived(_:)`` with `nil`, or ``abort(_:)``) discards the file.
///
/// Chunks are queued and go to the pool together as one batch at the end of
/// each burst of socket reads (``readBurstEnded()``), or once ``batchSize``
/// bytes wait, or when a stage finishes its batch; so the cost of a hop (two
/// thread wake-ups) is paid per batch and not per socket read. Hashing and writing are two stages with a batch each
/// in flight: they run at the same time on two pool threads.
///
/// Reading from the socket stops (`autoRead` off) while more than
/// ``highWatermark`` bytes wait for the disk, and resumes below ``lowWatermark``,
/// so memory stays bounded whatever the file's size.
///
/// Confined to its channel's event loop.
final class FileReceiver {
    /// Bytes waiting for the disk above which the socket is no longer read.
    static let highWatermark = 4 << 20
    /// Bytes waiting for the disk below which reading resumes.
    static let lowWatermark = 1 << 20
    /// Bytes queued within a burst of reads beyond which they go to the pool at once.
    static let batchSize = 1 << 20

    typealias Completion = (Result<FileTransferResult, FileTransferError>) -> Void

    /// How the frame ended.
    private enum Ending {
        case finished
        case aborted(FileTransferError)
    }

    private let channel: any Channel
    private let destination: String
    private let expectedSize: Int64
    /// The sender's digest; `""` (matches nothing) when an announced trailer did not come.
    private var expectedSHA256: String?
    /// The body announced a trailer with its digest that has not arrived yet.
    private var awaitingDigest: Bool
    private let progress: FileTransferProgressHandler?
    private let afterRename: (@Sendable (String) throws -> Void)?
    private let completion: Completion
    private let sink: EventLoopFuture<FileSink>
    private var hashing = Stage()
    private var writing = Stage()
    private var received: Int64 = 0
    private var written: Int64 = 0
    /// The first write error: later chunks are dropped, the frame is still read to its end.
    private var failure: FileTransferError?
    private var readingPaused = false
    /// Bytes queued since the stages were last offered a batch.
    private var unoffered = 0
    private var ending: Ending?
    private var concluded = false

    /// One of the two things done to every chunk on the pool (hashing, writing).
    private struct Stage {
        /// Chunks received and not yet handed to the pool.
        var queued: [ByteBuffer] = []
        /// Bytes queued or in the batch on the pool.
        var backlog = 0
        /// A batch is on the pool.
        var busy = false

        /// Takes the queued chunks as the next batch.
        mutating func takeBatch() -> (chunks: [ByteBuffer], bytes: Int)? {
            guard !busy, !queued.isEmpty else { return nil }
            let chunks = queued
            queued = []
            busy = true
            return (chunks, chunks.reduce(0) { $0 + $1.readableBytes })
        }

        mutating func drop() {
            backlog -= queued.reduce(0) { $0 + $1.readableBytes }
            queued = []
        }

        var isIdle: Bool { !busy && queued.isEmpty }
    }

    /// Starts receiving: creates the temporary file.
    init(
        channel: any Channel,
        destination: String,
        expectedSize: Int64,
        expectedSHA256: String?,
        digestFollows: Bool = false,
        progress: FileTransferProgressHandler?,
        afterRename: (@Sendable (String) throws -> Void)?,
        completion: @escaping Completion
    ) {
        self.channel = channel
        self.destination = destination
        self.expectedSize = expectedSize
        self.expectedSHA256 = digestFollows ? nil : expectedSHA256?.lowercased()
        self.awaitingDigest = digestFollows
        self.progress = progress
        self.afterRename = afterRename
        self.completion = completion
        self.sink = LocalFile.submit(on: channel.eventLoop) {
            try FileSink.createBlocking(besideDestination: destination)
        }
    }

    /// Queues the next chunk for the disk (and the digest).
    func write(_ chunk: ByteBuffer) {
        guard ending == nil else { return }
        let count = chunk.readableBytes
        received += Int64(count)
        guard failure == nil else { return }
        hashing.queued.append(chunk)
        hashing.backlog += count
        writing.queued.append(chunk)
        writing.backlog += count
        if backlog > Self.highWatermark && !readingPaused {
            readingPaused = true
            channel.setOption(.autoRead, value: false).whenFailure { _ in }
        }
        unoffered += count
        if unoffered >= Self.batchSize { pump() }
    }

    /// A burst of socket reads ended: what they queued goes to the pool.
    func readBurstEnded() {
        guard unoffered > 0 else { return }
        pump()
    }

    /// Bytes held in memory: what the slower stage has not done yet.
    private var backlog: Int { max(hashing.backlog, writing.backlog) }

    /// The last chunk arrived: sync, verify, rename (once what is queued is written).
    func finish() {
        guard ending == nil else { return }
        ending = .finished
        resumeReading()
        pump()
    }

    /// The digest announced to follow the body arrived (`nil`: the next frame was
    /// not the trailer, so the file is not kept). Concludes once the body is written.
    func digestArrived(_ digest: String?) {
        guard awaitingDigest else { return }
        awaitingDigest = false
        expectedSHA256 = digest?.lowercased() ?? ""
        pump()
    }

    /// The link dropped or the frame was cut (or its trailer did not come): drop the temporary file.
    func abort(_ error: FileTransferError) {
        guard ending == nil || (awaitingDigest && !concluded) else { return }
        awaitingDigest = false
        ending = .aborted(error)
        dropQueued()
        resumeReading()
        pump()
    }

    /// Hands each stage its queued chunks as one batch if it has none on the
    /// pool; with nothing left to do and the frame ended, concludes.
    private func pump() {
        unoffered = 0
        guard !concluded else { return }
        let loop = channel.eventLoop
        if let (chunks, bytes) = hashing.takeBatch() {
            sink.flatMap { sink in
                LocalFile.submit(on: loop) { sink.hashBlocking(chunks) }
            }.assumeIsolated().whenComplete { [self] _ in
                hashing.busy = false
                hashing.backlog -= bytes
                stageDone()
            }
        }
        if let (chunks, bytes) = writing.takeBatch() {
            sink.flatMap { sink in
                LocalFile.submit(on: loop) { try sink.writeBlocking(chunks) }
            }.assumeIsolated().whenComplete { [self] result in
                writing.busy = false
                writing.backlog -= bytes
                switch result {
                case .success:
                    written += Int64(bytes)
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
        // A batch that completed at once may have concluded already (re-entrantly).
        guard !concluded, hashing.isIdle, writing.isIdle else { return }
        switch ending {
        case nil: return
        case .finished: if !awaitingDigest { conclude() }
        case .aborted(let error): cleanUpAndFail(error)
        }
    }

    private func stageDone() {
        if readingPaused && backlog < Self.lowWatermark { resumeReading() }
        pump()
    }

    private func dropQueued() {
        hashing.drop()
        writing.drop()
    }

    /// Everything was written: sync, verify, rename, report.
    private func conclude() {
        if let failure { return cleanUpAndFail(failure) }
        concluded = true
        let expectedSHA256 = self.expectedSHA256
        let destination = self.destination
        let afterRename = self.afterRename
        let size = received
        let loop = channel.eventLoop
        sink.flatMap { sink in
            LocalFile.submit(on: loop) { () throws -> FileTransferResult in
                // Verified first: a file that will be deleted is not worth an fsync.
                let actual = sink.digest()
                if let expectedSHA256, expectedSHA256 != actual {
                    sink.discardBlocking()
                    throw FileTransferError.checksumMismatch(expected: expectedSHA256, actual: actual)
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
                return FileTransferResult(delivery: .received, bytes: size, sha256: actual, path: destination)
            }
        }.assumeIsolated().whenComplete { [completion] result in
            completion(result.mapError(Self.fileError))
        }
    }

    private func resumeReading() {
        guard readingPaused else { return }
        readingPaused = false
        channel.setOption(.autoRead, value: true).whenSuccess { [channel] in channel.read() }
    }

    /// Closes and removes the temporary file (if it was made), then reports `error`.
    private func cleanUpAndFail(_ error: FileTransferError) {
        concluded = true
        let loop = channel.eventLoop
        sink.flatMap { sink in
            LocalFile.submit(on: loop) { sink.discardBlocking() }
        }.assumeIsolated().whenComplete { [completion] _ in
            completion(.failure(error))
        }
    }

    private static func fileError(_ error: any Error) -> FileTransferError {
        error as? FileTransferError ?? .io(operation: "receive", path: "", errno: 5)
    }
}

@available(*, unavailable)
extension FileReceiver: Sendable {}
