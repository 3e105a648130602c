/// Why a file push or pull failed.
public enum FileTransferError: Error, Sendable, Hashable {
    /// The path was refused by the receiving side's ``FilePolicy``.
    case refused(FilePolicyError)
    /// A local file operation failed.
    case io(operation: String, path: String, errno: Int32)
    /// The local file to send is not a regular file.
    case notRegularFile(String)
    /// The received bytes do not match the sender's SHA-256; nothing was written.
    case checksumMismatch(expected: String, actual: String)
    /// The link dropped, or the connection closed, before the transfer completed.
    case connection(ConnectionError)
    /// The peer refused the file (error reply).
    case remote(RemoteError)
}

extension FileTransferError: CustomStringConvertible {
    /// A one-line explanation.
    public var description: String {
        switch self {
        case .refused(let error): return "path refused: \(error)"
        case .io(let operation, let path, let errno): return "\(operation) \(path) failed with errno \(errno)"
        case .notRegularFile(let path): return "\(path) is not a regular file"
        case .checksumMismatch(let expected, let actual): return "sha256 mismatch: expected \(expected), got \(actual)"
        case .connection(let error): return "\(error)"
        case .remote(let error): return "peer refused: \(error.code): \(error.message)"
        }
    }
}
