extension GroundStation {
    /// Files of at most this many bytes are read into memory once and every
    /// push of ``pushFile(_:to:drones:maximumConcurrent:acknowledgementTimeout:progress:)``
    /// writes that one buffer; larger files are streamed from the disk by each push.
    public static let filePushInMemoryLimit = 16 << 20

    /// Sends one local file to many drones, which write it at `remotePath`.
    ///
    /// The file is opened, and its SHA-256 computed, once for all the drones; a
    /// file of at most ``filePushInMemoryLimit`` bytes is also read once, into
    /// one buffer that every push writes (larger files are streamed from the
    /// disk by each push, with `sendfile`). At most `maximumConcurrent` pushes
    /// run at a time, in a task group; each drone gets its own result, as
    /// ``Connection/pushFile(_:to:progress:acknowledgementTimeout:)`` gives it
    /// (a drone of this library verifies the digest and acknowledges), and a
    /// failure on one drone never stops the others. A drone without a link is
    /// not waited for: its result is ``MessagingError/notConnected``.
    /// - Parameters:
    ///   - localPath: the file to send.
    ///   - remotePath: where each drone writes it (checked against its ``FilePolicy``).
    ///   - ids: the drones, in the order of the results; `nil`: every drone the
    ///     station knows, connected or not, sorted by id.
    ///   - maximumConcurrent: the most pushes in flight at once (default 32; at least 1).
    ///   - acknowledgementTimeout: how long each push waits for its drone's
    ///     acknowledgement once its bytes are with the drone (see ``Connection/pushFile(_:to:progress:acknowledgementTimeout:)``).
    ///   - progress: called with the bytes and drones done over the whole fleet.
    /// - Returns: one result per drone.
    /// - Throws: ``MessagingError`` only when the local file cannot be opened
    ///   or read (then no drone was sent anything).
    public func pushFile(
        _ localPath: String,
        to remotePath: String,
        drones ids: [String]? = nil,
        maximumConcurrent: Int = 32,
        acknowledgementTimeout: Duration = .seconds(60),
        progress: FilePushProgressHandler? = nil
    ) async throws(MessagingError) -> DroneResults<FileTransferResult> {
        try await pushFile(
            localPath, to: remotePath, drones: ids, maximumConcurrent: maximumConcurrent,
            acknowledgementTimeout: acknowledgementTimeout, inMemoryLimit: Self.filePushInMemoryLimit, progress: progress
        )
    }

    /// ``pushFile(_:to:drones:maximumConcurrent:acknowledgementTimeout:progress:)``
    /// with the size up to which the file is read into memory.
    func pushFile(
        _ localPath: String,
        to remotePath: String,
        drones ids: [String]?,
        maximumConcurrent: Int,
        acknowledgementTimeout: Duration,
        inMemoryLimit: Int,
        progress: FilePushProgressHandler?
    ) async throws(MessagingError) -> DroneResults<FileTransferResult> {
        var targets = targets(ids)
        if ids == nil { targets.sort { $0.id < $1.id } }
        let body = try await FilePushBody.prepare(localPath, inMemoryLimit: inMemoryLimit)
        defer { body.file.closeBlocking() }
        let linked = targets.filter { $0.connection != nil }.count
        let tally = FilePushTally(drones: targets.count, totalBytes: body.size * Int64(linked), handler: progress)
        var results = [Result<FileTransferResult, MessagingError>](repeating: .failure(.notConnected), count: targets.count)
        for (position, target) in targets.enumerated() where target.connection == nil {
            tally.finished(position, failed: true, running: false)
        }
        let limit = max(1, maximumConcurrent)
        await withTaskGroup(of: (Int, Result<FileTransferResult, MessagingError>).self) { group in
            var inFlight = 0
            for (position, target) in targets.enumerated() {
                guard let connection = target.connection else { continue }
                if inFlight == limit, let (done, result) = await group.next() {
                    results[done] = result
                    inFlight -= 1
                }
                inFlight += 1
                tally.started(position)
                group.addTask {
                    let result: Result<FileTransferResult, MessagingError>
                    do throws(MessagingError) {
                        result = .success(
                            try await connection.pushFile(
                                body, to: remotePath,
                                progress: { tally.progressed(position, bytesDone: $0.bytesDone) },
                                acknowledgementTimeout: acknowledgementTimeout
                            )
                        )
                    } catch {
                        result = .failure(error)
                    }
                    if case .success = result { tally.progressed(position, bytesDone: body.size) }
                    if case .success = result { tally.finished(position, failed: false) } else { tally.finished(position, failed: true) }
                    return (position, result)
                }
            }
            for await (done, result) in group { results[done] = result }
        }
        return DroneResults(Self.elements(targets, results))
    }
}
