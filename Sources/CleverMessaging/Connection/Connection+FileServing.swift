import Logging
import NIOCore

extension Connection {
    // MARK: - Serving and receiving

    /// Answers a `filetransfer` request: streams the file back if the policy allows it.
    func serveFile(id: JSONValue, kwargs: JSONObject, wantsErrors: Bool) {
        let refuse = { @Sendable (message: String) in
            self.logger.warning("refused file request: \(message)", metadata: self.linkMetadata)
            if wantsErrors {
                self.replyError(to: Frame.fileTransferAction, id: id, RemoteError(code: RemoteError.Code.fileRefused, message: message))
            }
        }
        guard let path = kwargs["filepath"]?.stringValue else { return refuse("no filepath") }
        guard let policy = configuration.filePolicy else { return refuse(FilePolicyError.notConfigured.description) }
        let resolved: ResolvedPath
        do throws(FilePolicyError) {
            resolved = try policy.resolveForReading(path)
        } catch {
            return refuse("\(error)")
        }
        runHandlerTask {
            do throws(MessagingError) {
                let (file, size) = try await LocalFile.openForReading(resolved.path)
                defer { file.closeBlocking() }
                // A requester of this library gets the digest after the body, by the
                // check it offered if this side asks for it too (see pushFile).
                let extra: JSONObject
                if self.configuration.announceExtensions && wantsErrors {
                    let pick = FileChecksumAgreement.pick(offered: kwargs, preference: self.configuration.fileChecksum)
                    extra = FileChecksumAgreement.trailerAnnouncement(pick)
                } else {
                    extra = [ExtensionHeader.sha256: .string(try await file.sha256(size: size))]
                }
                let header = FrameHeader(
                    contentType: .binary,
                    contentLength: Int(size),
                    messageType: .response,
                    requestedValue: Frame.fileTransferAction,
                    requestID: id,
                    extra: extra
                )
                try await self.stream(FilePushBody(file: file, size: size), header: header, progress: nil)
                self.logger.debug("sent file", metadata: self.linkMetadata(["path": "\(resolved.path)", "bytes": "\(size)"]))
            } catch {
                refuse("\(error)")
            }
        }
    }

    /// A binary frame begins: returns where its body goes, or `nil` to discard it.
    func beginBinary(_ header: FrameHeader, channel: any Channel) -> FileReceiver? {
        noteCapabilities(header)
        let readGate = state.withLockedValue { s in s.channel === channel ? s.readGate : nil } ?? ReadGate(channel: channel)
        let incoming = IncomingFile(header, readGate: readGate)
        switch header.messageType {
        case .message where header.action == Frame.fileTransferAction:
            return beginPush(header, channel: channel, incoming: incoming)
        case .response where header.requestedValue == Frame.fileTransferAction:
            guard let (destination, progress) = state.withLockedValue({ $0.pending.fileDownload(id: header.requestID) }) else {
                logger.warning("unexpected file response dropped", metadata: linkMetadata(["request_id": "\(header.requestID.map { "\($0)" } ?? "none")"]))
                return nil
            }
            let id = header.requestID!.stringValue!
            // From the first byte on, the pull runs as long as its bytes keep moving.
            let watch = TransferStallGuard.start(on: channel, for: self)
            return incoming.receiver(into: destination, watch: watch, progress: progress, afterRename: nil) { result in
                watch.stop()
                guard let entry = self.state.withLockedValue({ $0.pending.remove(id: id) }) else { return }
                switch result {
                case .success(let received):
                    entry.finish(.success([
                        "bytes": .integer(Int(received.bytes)),
                        "sha256": .string(received.sha256 ?? ""),
                        "checksum": .string(received.checksum?.rawValue ?? ""),
                        "digest": .string(received.digest ?? ""),
                        "path": .string(destination),
                    ]))
                case .failure(let error):
                    // A link this side dropped (the pull stalled, the peer stopped answering) says why.
                    let lost = error == .connectionLost ? watch.stall ?? self.dropReason(of: channel) : nil
                    entry.completion.completeFile(lost ?? error, of: entry.request)
                }
            }
        default:
            logger.warning("binary frame that is neither a file push nor a file response dropped", metadata: linkMetadata)
            return nil
        }
    }

    private func beginPush(_ header: FrameHeader, channel: any Channel, incoming: IncomingFile) -> FileReceiver? {
        let acknowledgement = header.extra[ExtensionHeader.acknowledgement]
        let answer = { (result: Result<FileTransferResult, MessagingError>) in
            guard let acknowledgement else { return }
            switch result {
            case .success: self.reply(to: Frame.fileTransferAction, id: acknowledgement, value: true)
            case .failure(let error):
                self.replyError(to: Frame.fileTransferAction, id: acknowledgement, RemoteError(code: RemoteError.Code.fileRefused, message: "\(error)"))
            }
        }
        guard let policy = configuration.filePolicy else {
            logger.warning("file push refused: \(FilePolicyError.notConfigured)", metadata: linkMetadata)
            answer(.failure(.fileRefused(.notConfigured)))
            return nil
        }
        let resolved: ResolvedPath
        do throws(FilePolicyError) {
            resolved = try policy.resolveForWriting(header.filePath ?? "")
            try policy.createParentDirectories(of: resolved)
        } catch {
            logger.warning("file push refused", metadata: linkMetadata(["path": "\(header.filePath ?? "")", "reason": "\(error)"]))
            answer(.failure(.fileRefused(error)))
            return nil
        }
        let registry = self.registry
        let afterRename: (@Sendable (String) throws -> Void)?
        if policy.owner != nil {
            afterRename = { path in try policy.applyOwner(to: path) }
        } else {
            afterRename = nil
        }
        // At trace level only: one line per block written (256 KiB).
        var traceProgress: FileTransferProgressHandler? = nil
        if logger.logLevel <= .trace {
            let logger = self.logger
            traceProgress = { p in logger.trace("file push progress: \(p.bytesDone) of \(p.totalBytes) bytes written") }
        }
        // The body arrives as long as its bytes keep moving; a sender that stops drops its link.
        let trace = traceProgress
        let watch = TransferStallGuard.start(on: channel, for: self)
        return incoming.receiver(into: resolved.path, watch: watch, progress: trace, afterRename: afterRename) {
            (result: Result<FileTransferResult, MessagingError>) in
            watch.stop()
            switch result {
            case .success(let received):
                self.logger.debug("received file", metadata: self.linkMetadata(["path": "\(resolved.path)", "bytes": "\(received.bytes)"]))
                registry.fileReceived(self, path: resolved.path, bytes: received.bytes)
            case .failure(let error):
                self.logger.warning("file push failed", metadata: self.linkMetadata(["path": "\(resolved.path)", "reason": "\(error)"]))
            }
            answer(result)
        }
    }
}

extension PendingRequests.Completion {
    /// Fails a file pull (`request`) with a file error (kept as is, not mapped to a connection error).
    func completeFile(_ error: MessagingError, of request: PendingRequests.Entry.Request) {
        switch self {
        case .promise(let promise): promise.fail(error)
        case .continuation(let continuation): continuation.resume(throwing: error)
        case .typed(let promise): promise.fail(error)
        case .typedContinuation(let continuation): continuation.resume(throwing: error)
        case .callback(let callback): callback(.failure(.connectionLost))
        case .requestCallback: request.callback?.deliver(.failure(.connectionLost), requestedValue: request.requestedValue)
        case .fanOut(let group, let position), .typedFanOut(let group, let position): group.deliver(position, .failure(.connectionLost))
        }
    }
}

/// What a file frame's header says of the body that follows it (its size and
/// how it is checked): a pulled file and a pushed one are received alike.
private struct IncomingFile {
    let readGate: ReadGate
    let size: Int64
    let checksum: FileChecksum
    let expectedDigest: String?
    let digestFollows: Bool

    init(_ header: FrameHeader, readGate: ReadGate) {
        self.readGate = readGate
        size = Int64(header.contentLength)
        expectedDigest = header.extra[ExtensionHeader.sha256]?.stringValue
        digestFollows = header.extra[ExtensionHeader.sha256Trailer] != nil
        // A check this side does not know cannot be verified: its trailer's digest
        // (under a name this side does not read) matches nothing, and the file is not kept.
        checksum = digestFollows ? FileChecksumAgreement.announced(in: header.extra) ?? .sha256 : .sha256
    }

    /// A receiver of the body into `destination`; every block written is progress for
    /// the transfer's stall guard `watch` and then for `progress`.
    func receiver(
        into destination: String,
        watch: TransferStallGuard,
        progress: FileTransferProgressHandler?,
        afterRename: (@Sendable (String) throws -> Void)?,
        completion: @escaping FileReceiver.Completion
    ) -> FileReceiver {
        FileReceiver(
            readGate: readGate,
            destination: destination,
            expectedSize: size,
            checksum: checksum,
            expectedDigest: expectedDigest,
            digestFollows: digestFollows,
            progress: { done in
                watch.progressed()
                progress?(done)
            },
            afterRename: afterRename,
            completion: completion
        )
    }
}
