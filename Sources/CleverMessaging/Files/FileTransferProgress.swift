/// How far a file transfer has come.
public struct FileTransferProgress: Sendable, Hashable {
    /// Bytes sent or received so far.
    public var bytesDone: Int64
    /// The file's size.
    public var totalBytes: Int64

    /// Creates a progress report.
    /// - Parameters:
    ///   - bytesDone: bytes so far.
    ///   - totalBytes: the file's size.
    public init(bytesDone: Int64, totalBytes: Int64) {
        self.bytesDone = bytesDone
        self.totalBytes = totalBytes
    }

    /// The fraction done, from 0 to 1 (1 for an empty file).
    public var fraction: Double { totalBytes == 0 ? 1 : Double(bytesDone) / Double(totalBytes) }
}

/// Called with progress reports, at most once per chunk.
public typealias FileTransferProgressHandler = @Sendable (FileTransferProgress) -> Void
