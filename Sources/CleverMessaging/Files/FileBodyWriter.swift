import NIOConcurrencyHelpers
import NIOCore

/// Writes a file's bytes to a channel as `FileRegion`s, so that the kernel
/// copies them from the page cache to the socket (`sendfile(2)`) without a trip
/// through user space: no buffers, no blocking-pool hops.
///
/// Up to ``regionsInFlight`` regions of ``regionSize`` bytes wait in the channel
/// at a time; they hold no memory, only offsets into the file. The channel's
/// pipeline must pass `IOData` through to the socket (this library's does: it
/// has no outbound handlers).
///
/// `sendfile` makes no progress on a file that shrank under it, so while the
/// body is written a watchdog on the event loop checks the file's size and
/// closes the link if it dropped below what the frame announced.
///
/// When asked for the digest, a ``FileHasher`` reads and hashes the same bytes
/// on the blocking-I/O pool while the regions are sent, so the sender reads the
/// file once in time instead of hashing it all before the first byte goes out.
struct FileBodyWriter {
    /// The bytes per region, and per progress report.
    static let regionSize = 1 << 20
    /// How many regions may wait in the channel.
    static let regionsInFlight = 16
    /// How often the watchdog checks the file's size.
    static let watchdogInterval = TimeAmount.milliseconds(250)

    let channel: any Channel
    let file: LocalFile
    let size: Int64

    /// Writes bytes `0..<size` of the file and waits until the socket took them all.
    /// - Parameters:
    ///   - progress: called as regions are written, with the bytes done so far.
    ///   - hashing: also compute this digest of the bytes, while they are sent.
    /// - Returns: the lowercase hex digest when `hashing`, else `nil`.
    /// - Throws: ``MessagingError``: `.io` when the file cannot be duplicated,
    ///   shrank or could not be read for the digest (the link is then closed, so
    ///   that the receiver keeps nothing), `.connectionLost)` when a write failed.
    @discardableResult
    func write(progress: FileTransferProgressHandler?, hashing: FileChecksum? = nil) async throws(MessagingError) -> String? {
        guard let hashing else {
            try await writeRegions(progress: progress)
            return nil
        }
        let hasher = FileHasher(file: file, size: size, checksum: hashing)
        let digest = Task { try await hasher.digest() }
        do throws(MessagingError) {
            try await writeRegions(progress: progress)
        } catch {
            digest.cancel()
            // The hasher reads the file: it must be done before the caller closes it.
            _ = await digest.result
            throw error
        }
        switch await digest.result {
        case .success(let hex):
            return hex
        case .failure(let error):
            // The body went out but cannot be vouched for: no digest follows, the link goes.
            channel.close(promise: nil)
            throw error as? MessagingError ?? .connectionLost
        }
    }

    /// Writes the regions (without hashing).
    private func writeRegions(progress: FileTransferProgressHandler?) async throws(MessagingError) {
        guard size > 0 else { return }
        // The handle is NIO's own descriptor for the regions; closed on the event loop
        // once every region's write has completed and the watchdog is cancelled.
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: try file.duplicateDescriptor())
        let loop = channel.eventLoop
        let shrank = NIOLockedValueBox(false)
        let watchdog = loop.scheduleRepeatedTask(initialDelay: Self.watchdogInterval, delay: Self.watchdogInterval) {
            [channel, size] _ in
            guard let current = try? handle.withUnsafeFileDescriptor({ LocalFile.sizeBlocking(of: $0) }), current < size else { return }
            shrank.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        var writes = CircularBuffer<(end: Int64, future: EventLoopFuture<Void>)>(initialCapacity: Self.regionsInFlight + 1)
        var failure: MessagingError?
        var offset: Int64 = 0
        while offset < size && failure == nil {
            let end = min(offset + Int64(Self.regionSize), size)
            let region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(end))
            writes.append((end, channel.writeAndFlush(IOData.fileRegion(region))))
            offset = end
            if writes.count > Self.regionsInFlight {
                failure = await Self.written(writes.removeFirst(), size: size, progress: progress)
            }
        }
        // Every region must be done with the handle before it closes, whatever happened.
        while let write = writes.popFirst() {
            let error = await Self.written(write, size: size, progress: failure == nil ? progress : nil)
            failure = failure ?? error
        }
        let closed = loop.submit {
            watchdog.cancel()
            try handle.close()
        }
        if (try? await closed.get()) == nil {
            // The loop is gone (shutting down): nothing can use the handle any more.
            try? handle.close()
        }
        if shrank.withLockedValue({ $0 }) {
            throw .fileIO(operation: "read", path: file.path, errno: 5)
        }
        if let failure { throw failure }
    }

    /// Waits for one region's (or slice's) write and reports it; returns the error if it failed.
    static func written(
        _ write: (end: Int64, future: EventLoopFuture<Void>),
        size: Int64,
        progress: FileTransferProgressHandler?
    ) async -> MessagingError? {
        do {
            try await write.future.get()
        } catch {
            return .connectionLost
        }
        progress?(FileTransferProgress(bytesDone: write.end, totalBytes: size))
        return nil
    }
}
