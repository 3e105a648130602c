import Logging
import NIOCore

extension Connection {
    // MARK: - Push

    /// Sends a local file to the peer, which writes it at `remotePath` (the reference's `send_file`).
    ///
    /// The file is streamed in chunks, never held in memory. A peer of this
    /// library is first asked whether it accepts the destination
    /// (`x-clever-file-check`), so a refused push fails before its body is
    /// sent, and both agree on the integrity check (``FileChecksum``,
    /// ``ConnectionConfiguration/fileChecksum``); it verifies the digest sent
    /// after the file (hashed while it is sent), moves it into place
    /// atomically and acknowledges it. A reference peer gets the file as the
    /// reference sends it, with its SHA-256 in the header, and sends no
    /// acknowledgement, so for it the result says the bytes were handed to the socket.
    ///
    /// No deadline runs from the start: the push fails with
    /// ``MessagingError/transferStalled(idle:)`` only when its bytes stop moving
    /// for ``ConnectionConfiguration/transferStallTimeout``, and the
    /// acknowledgement timer starts once the peer's TCP acknowledged the last
    /// byte, so a push of any size over a slow but working link completes.
    /// - Parameters:
    ///   - localPath: the file to send.
    ///   - remotePath: where the peer writes it (checked against the peer's ``FilePolicy``).
    ///   - progress: called as chunks are written.
    ///   - acknowledgementTimeout: how long to wait for a peer's acknowledgement
    ///     (and its answer to the destination check), from the moment the peer's
    ///     TCP acknowledged the last byte.
    /// - Returns: whether the peer acknowledged it, and the size and digest sent.
    /// - Throws: ``MessagingError``.
    public func pushFile(
        _ localPath: String,
        to remotePath: String,
        progress: FileTransferProgressHandler? = nil,
        acknowledgementTimeout: Duration = .seconds(60)
    ) async throws(MessagingError) -> FileTransferResult {
        let (file, size) = try await LocalFile.openForReading(localPath)
        defer { file.closeBlocking() }
        return try await pushFile(FilePushBody(file: file, size: size), to: remotePath, progress: progress, acknowledgementTimeout: acknowledgementTimeout)
    }

    /// Sends `body` to the peer, which writes it at `remotePath` (see ``pushFile(_:to:progress:acknowledgementTimeout:)``).
    func pushFile(
        _ body: FilePushBody,
        to remotePath: String,
        progress: FileTransferProgressHandler?,
        acknowledgementTimeout: Duration
    ) async throws(MessagingError) -> FileTransferResult {
        let size = body.size
        // A peer of this library gets the digest after the body (hashed while it
        // is sent) unless it was computed before; any other peer in the header,
        // from a pass before the body.
        let extensions = configuration.announceExtensions && peerSpeaksExtensions
        var digest = body.sha256
        var checksum = FileChecksum.sha256
        if extensions {
            // A digest computed before needs no check agreed: it goes in the header.
            let preference = digest == nil ? configuration.fileChecksum : .sha256
            checksum = try await checkDestination(remotePath, bytes: size, preference: preference, timeout: acknowledgementTimeout)
        }
        var extra: JSONObject
        if extensions && digest == nil {
            extra = FileChecksumAgreement.trailerAnnouncement(checksum)
        } else {
            if digest == nil { digest = try await body.file.sha256(size: size) }
            extra = [ExtensionHeader.sha256: .string(digest!)]
        }
        var acknowledgement: (id: String, future: EventLoopFuture<JSONValue>)?
        if extensions {
            acknowledgement = try registerAcknowledgement(timeout: acknowledgementTimeout.timeAmount)
            extra[ExtensionHeader.acknowledgement] = .string(acknowledgement!.id)
        }
        let header = FrameHeader(
            contentType: .binary,
            contentLength: Int(size),
            messageType: .message,
            action: Frame.fileTransferAction,
            filePath: remotePath,
            extra: extra
        )
        do throws(MessagingError) {
            digest = try await stream(body, header: header, progress: progress, drain: acknowledgement != nil, orUntil: acknowledgement?.future) ?? digest
        } catch {
            if let acknowledgement { failRequest(id: acknowledgement.id, with: error) }
            throw error
        }
        guard let acknowledgement else {
            return FileTransferResult(delivery: .written, bytes: size, checksum: checksum, digest: digest, path: nil)
        }
        // Every byte is with the peer's TCP: the acknowledgement's wait starts now.
        let now = self.eventLoop.now
        state.withLockedValue { _ = $0.pending.startDeadline(id: acknowledgement.id, now: now) }
        armTimeoutsSoon()
        do {
            _ = try await acknowledgement.future.get()
        } catch let error as MessagingError {
            if case .remote(let remote) = error { throw .remote(remote) }
            throw error
        } catch {
            throw .connectionLost
        }
        return FileTransferResult(delivery: .acknowledged, bytes: size, checksum: checksum, digest: digest, path: nil)
    }

    /// Asks a peer of this library whether it accepts a push to `remotePath`,
    /// offering the integrity check `preference` (``FileChecksumAgreement``).
    /// - Returns: the check the peer agreed to.
    /// - Throws: the peer's refusal (``MessagingError/remote(_:)``), or why no answer came.
    private func checkDestination(
        _ remotePath: String,
        bytes: Int64,
        preference: FileChecksum,
        timeout: Duration
    ) async throws(MessagingError) -> FileChecksum {
        let outcome: Result<JSONValue, MessagingError>
        do throws(MessagingError) {
            let arguments = FileDestinationCheck.arguments(path: remotePath, bytes: bytes)
                .merging(FileChecksumAgreement.offer(preference)) { first, _ in first }
            outcome = .success(try await request(FileDestinationCheck.requestedValue, kwargs: arguments, timeout: timeout))
        } catch {
            outcome = .failure(error)
        }
        if case .fail(let error) = FileDestinationCheck.verdict(outcome) { throw error }
        guard case .success(let answer) = outcome else { return .sha256 }
        return FileChecksumAgreement.agreed(answer: answer, preference: preference)
    }

    /// Answers a peer's ``FileDestinationCheck`` from this side's file policy.
    func answerFileCheck(id: JSONValue, kwargs: JSONObject) {
        guard let refusal = FileDestinationCheck.answer(kwargs, policy: configuration.filePolicy) else {
            let pick = FileChecksumAgreement.pick(offered: kwargs, preference: configuration.fileChecksum)
            reply(to: FileDestinationCheck.requestedValue, id: id, value: FileChecksumAgreement.answer(pick))
            return
        }
        let path = FilePolicyError.sanitize(kwargs["filepath"]?.stringValue ?? "")
        logger.warning("file push refused before its body", metadata: linkMetadata(["path": "\(path)", "reason": "\(refusal.message)"]))
        replyError(to: FileDestinationCheck.requestedValue, id: id, refusal)
    }

    /// Registers a pending entry that only an acknowledgement answers (never
    /// resent), with no deadline yet: it starts when the body is with the peer.
    private func registerAcknowledgement(timeout: TimeAmount) throws(MessagingError) -> (id: String, future: EventLoopFuture<JSONValue>) {
        let promise = eventLoop.makePromise(of: JSONValue.self)
        let id = state.withLockedValue { s -> String in
            let number = s.pending.takeNumber()
            let id = Self.formatRequestID(number)
            var entry = PendingRequests.Entry(
                requestedValue: Frame.fileTransferAction,
                args: [],
                kwargs: [:],
                completion: .promise(promise),
                timeout: timeout,
                written: true
            )
            entry.resendable = false
            s.pending.add(number: number, entry: entry, expires: false, now: .now())
            return id
        }
        return (id, promise.futureResult)
    }

    /// Writes a frame head and then the file's bytes (``FileBodyWriter``: `sendfile`
    /// from the page cache, no user-space buffers), holding the link. When the
    /// header announces ``ExtensionHeader/sha256Trailer``, the bytes are hashed
    /// (by the check it names, ``FileChecksumAgreement``) as they are sent and
    /// the digest follows them in a trailer frame.
    ///
    /// A ``TransferStallGuard`` watches the stream: when no byte moves for
    /// ``ConnectionConfiguration/transferStallTimeout`` the link is dropped and
    /// the stream fails with ``MessagingError/transferStalled(idle:)``.
    /// - Parameters:
    ///   - drain: also wait until the peer's TCP acknowledged every byte,
    ///   - answer: or until this, the peer's answer to the transfer, completes.
    /// - Returns: the digest sent in the trailer, or `nil` when none was announced.
    @discardableResult
    func stream(
        _ body: FilePushBody,
        header: FrameHeader,
        progress: FileTransferProgressHandler?,
        drain: Bool = false,
        orUntil answer: EventLoopFuture<JSONValue>? = nil
    ) async throws(MessagingError) -> String? {
        let channel: any Channel
        do throws(MessagingError) {
            channel = try await acquireStream()
        } catch {
            throw error
        }
        var released = false
        defer { if !released { releaseStream() } }
        let watch = TransferStallGuard.start(on: channel, for: self)
        defer { watch.stop() }
        do throws(MessagingError) {
            let digest = try await streamBody(body, header: header, progress: progress, channel: channel, watch: watch)
            // Frames sent meanwhile may follow the body while it drains from the kernel's buffers.
            releaseStream()
            released = true
            if drain { try await watch.waitDrained(orUntil: answer) }
            return digest
        } catch {
            throw watch.stall ?? dropReason(of: channel) ?? error
        }
    }

    /// Why this side dropped `channel`, if it did (liveness, a stalled transfer).
    func dropReason(of channel: any Channel) -> MessagingError? {
        state.withLockedValue { s in
            if let current = s.channel, current === channel { return s.dropReason?.error }
            return s.lastDropReason?.error
        }
    }

    /// The writes of ``stream(_:header:progress:drain:orUntil:)`` on the link it holds.
    private func streamBody(
        _ body: FilePushBody,
        header: FrameHeader,
        progress: FileTransferProgressHandler?,
        channel: any Channel,
        watch: TransferStallGuard
    ) async throws(MessagingError) -> String? {
        var head = channel.allocator.buffer(capacity: 512)
        do throws(FrameEncodingError) {
            try state.withLockedValue { $0.writer }.writeHead(marked: header, into: &head)
        } catch {
            throw .encoding(error)
        }
        do {
            try await channel.writeAndFlush(head).get()
        } catch {
            throw .connectionLost
        }
        let trailer = header.extra[ExtensionHeader.sha256Trailer] != nil
            ? FileChecksumAgreement.announced(in: header.extra) ?? .sha256 : nil
        // Each region written is progress for the link's liveness: a long push to a slow
        // peer keeps its link while a ping waits behind it.
        let size = body.size
        let progressed: FileTransferProgressHandler = { [self] done in
            streamProgressed()
            watch.progressed()
            progress?(done)
        }
        let digest: String?
        if let bytes = body.bytes, trailer == nil {
            // Read once for many pushes: every push writes the same storage.
            try await FilePushBody.write(bytes, to: channel, progress: progressed)
            digest = nil
        } else {
            digest = try await FileBodyWriter(channel: channel, file: body.file, size: size).write(progress: progressed, hashing: trailer)
        }
        if size == 0 { progress?(FileTransferProgress(bytesDone: 0, totalBytes: 0)) }
        metrics?.fileSent(bytes: size)
        guard let digest, let trailer else { return nil }
        var tail = channel.allocator.buffer(capacity: 256)
        do throws(FrameEncodingError) {
            var writer = state.withLockedValue { $0.writer }
            let frame = Frame.action(ExtensionHeader.sha256Trailer, extra: [trailer.headerKey: .string(digest)])
            try writer.write(frame, into: &tail)
        } catch {
            // The receiver must not keep a body whose digest never comes.
            channel.close(promise: nil)
            throw .encoding(error)
        }
        do {
            try await channel.writeAndFlush(tail).get()
        } catch {
            throw .connectionLost
        }
        return digest
    }

    // MARK: - Pull

    /// Asks the peer for the file at `remotePath` and writes it to `localPath` (the reference's `get_file`).
    ///
    /// The file is written to a temporary file beside `localPath`, verified when
    /// the peer sends a digest (a peer of this library always does, by the
    /// check both agreed, ``ConnectionConfiguration/fileChecksum``; a reference
    /// peer sends a SHA-256), and renamed over `localPath` only when complete.
    /// - Parameters:
    ///   - remotePath: the path on the peer.
    ///   - localPath: where to write it (default: the last component of `remotePath`).
    ///   - progress: called as chunks arrive.
    ///   - timeout: how long to wait for the first byte (default 60 s); from
    ///     then on the pull runs as long as its bytes keep moving, and fails
    ///     with ``MessagingError/transferStalled(idle:)`` when none moved for
    ///     ``ConnectionConfiguration/transferStallTimeout``.
    /// - Returns: the size and digest received, and the path written.
    /// - Throws: ``MessagingError``.
    public func pullFile(
        _ remotePath: String,
        to localPath: String? = nil,
        progress: FileTransferProgressHandler? = nil,
        timeout: Duration = .seconds(60)
    ) async throws(MessagingError) -> FileTransferResult {
        let destination = localPath ?? String(remotePath.split(separator: "/").last ?? Substring(remotePath))
        let promise = eventLoop.makePromise(of: JSONValue.self)
        var kwargs: JSONObject = ["filepath": .string(remotePath)]
        if configuration.announceExtensions && peerSpeaksExtensions {
            kwargs.merge(FileChecksumAgreement.offer(configuration.fileChecksum)) { first, _ in first }
        }
        do throws(MessagingError) {
            _ = try startRequest(
                Frame.fileTransferAction,
                args: [],
                kwargs: kwargs,
                completion: .promise(promise),
                timeout: timeout,
                fileDestination: destination,
                progress: progress
            )
        } catch {
            throw error
        }
        let value: JSONValue
        do {
            value = try await promise.futureResult.get()
        } catch let error as MessagingError {
            throw error
        } catch {
            throw .connectionLost
        }
        return FileTransferResult(
            delivery: .received,
            bytes: Int64(value["bytes"]?.integerValue ?? 0),
            checksum: value["checksum"]?.stringValue.flatMap(FileChecksum.init(rawValue:)),
            digest: value["digest"]?.stringValue,
            path: value["path"]?.stringValue ?? destination
        )
    }
}
