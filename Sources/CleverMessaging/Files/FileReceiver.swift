import Crypto
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Receives the body of one binary frame into a file: chunks are written in
/// order on NIO's blocking-I/O pool to a temporary file beside the destination,
/// hashed on the way; at the end the file is synced, verified against the
/// sender's SHA-256 (when given) and renamed over the destination. Any failure,
/// or a link that drops mid-file, removes the temporary file and leaves the
/// destination untouched.
///
/// Reading from the socket stops (`autoRead` off) while more than
/// ``highWatermark`` bytes wait for the disk, and resumes below ``lowWatermark``,
/// so memory stays bounded whatever the file's size.
///
/// Confined to its channel's event loop.
final class FileReceiver {
    /// Bytes waiting for the disk above which the socket is no longer read.
    static let highWatermark = 8 << 20
    /// Bytes waiting for the disk below which reading resumes.
    static let lowWatermark = 2 << 20

    typealias Completion = (Result<FileTransferResult, FileTransferError>) -> Void

    private let channel: any Channel
    private let destination: String
    private let expectedSize: Int64
    private let expectedSHA256: String?
    private let progress: FileTransferProgressHandler?
    private let afterRename: (@Sendable (String) throws -> Void)?
    private let completion: Completion
    private let file: EventLoopFuture<LocalFile>
    private let hasher = NIOLockedValueBox(SHA256())
    private var tail: EventLoopFuture<Void>
    private var received: Int64 = 0
    private var waitingForDisk = 0
    private var readingPaused = false
    private var done = false

    /// Starts receiving: creates the temporary file.
    init(
        channel: any Channel,
        destination: String,
        expectedSize: Int64,
        expectedSHA256: String?,
        progress: FileTransferProgressHandler?,
        afterRename: (@Sendable (String) throws -> Void)?,
        completion: @escaping Completion
    ) {
        self.channel = channel
        self.destination = destination
        self.expectedSize = expectedSize
        self.expectedSHA256 = expectedSHA256?.lowercased()
        self.progress = progress
        self.afterRename = afterRename
        self.completion = completion
        self.file = LocalFile.submit(on: channel.eventLoop) {
            try LocalFile.createTemporaryBlocking(besideDestination: destination)
        }
        self.tail = file.map { _ in () }
    }

    /// Queues the next chunk for the disk.
    func write(_ chunk: ByteBuffer) {
        guard !done else { return }
        let count = chunk.readableBytes
        received += Int64(count)
        waitingForDisk += count
        if waitingForDisk > Self.highWatermark && !readingPaused {
            readingPaused = true
            channel.setOption(.autoRead, value: false).whenFailure { _ in }
        }
        let hasher = self.hasher
        let loop = channel.eventLoop
        let done = received
        tail = tail.flatMap { [file] in
            file.flatMap { file in
                LocalFile.submit(on: loop) {
                    chunk.withUnsafeReadableBytes { bytes in hasher.withLockedValue { $0.update(bufferPointer: bytes) } }
                    try file.writeAllBlocking(chunk)
                }
            }
        }.map { [self] in
            waitingForDisk -= count
            progress?(FileTransferProgress(bytesDone: done, totalBytes: expectedSize))
            if readingPaused && waitingForDisk < Self.lowWatermark {
                readingPaused = false
                channel.setOption(.autoRead, value: true).whenSuccess { [channel] in channel.read() }
            }
        }
    }

    /// The last chunk arrived: sync, verify, rename.
    func finish() {
        guard !done else { return }
        done = true
        let expectedSHA256 = self.expectedSHA256
        let hasher = self.hasher
        let destination = self.destination
        let afterRename = self.afterRename
        let size = received
        let loop = channel.eventLoop
        tail.flatMap { [file] in
            file.flatMap { file in
                LocalFile.submit(on: loop) { () throws -> FileTransferResult in
                    try file.syncBlocking()
                    file.closeBlocking()
                    let actual = hexString(hasher.withLockedValue { $0.finalize() })
                    if let expectedSHA256, expectedSHA256 != actual {
                        file.unlinkBlocking()
                        throw FileTransferError.checksumMismatch(expected: expectedSHA256, actual: actual)
                    }
                    do {
                        try file.renameBlocking(to: destination)
                    } catch {
                        file.unlinkBlocking()
                        throw error
                    }
                    try afterRename?(destination)
                    return FileTransferResult(delivery: .received, bytes: size, sha256: actual, path: destination)
                }
            }
        }.whenComplete { [self] result in
            switch result {
            case .success(let value): completion(.success(value))
            case .failure(let error): cleanUpAndFail(error)
            }
        }
        resumeReadingIfPaused()
    }

    /// The link dropped or the frame was cut: drop the temporary file.
    func abort(_ error: FileTransferError) {
        guard !done else { return }
        done = true
        tail.whenComplete { [self] _ in cleanUpAndFail(error) }
        resumeReadingIfPaused()
    }

    private func resumeReadingIfPaused() {
        guard readingPaused else { return }
        readingPaused = false
        channel.setOption(.autoRead, value: true).whenSuccess { [channel] in channel.read() }
    }

    /// Closes and removes the temporary file (if it was made), then reports `error`.
    private func cleanUpAndFail(_ error: any Error) {
        let loop = channel.eventLoop
        file.flatMap { file in
            LocalFile.submit(on: loop) {
                file.closeBlocking()
                file.unlinkBlocking()
            }
        }.whenComplete { [completion] _ in
            completion(.failure(error as? FileTransferError ?? .io(operation: "receive", path: "", errno: 5)))
        }
    }
}

@available(*, unavailable)
extension FileReceiver: Sendable {}
