/// The outcome of a completed file push or pull.
public struct FileTransferResult: Sendable, Hashable {
    /// How sure the sender can be that the file arrived.
    public enum Delivery: Sendable, Hashable {
        /// The peer verified the bytes and moved the file into place (peers of this library).
        case acknowledged
        /// Every byte was handed to the socket; the peer sends no acknowledgement (reference peers).
        case written
        /// The file was received here, verified and moved into place (a pull).
        case received
    }

    /// How sure the sender can be.
    public var delivery: Delivery
    /// The file's size in bytes.
    public var bytes: Int64
    /// The SHA-256 of the content, lowercase hex, when the transfer was checked
    /// with SHA-256 (always with a reference peer); `nil` when another check was
    /// agreed (``checksum``).
    public var sha256: String?
    /// The local path written (for a pull).
    public var path: String?
    /// The integrity check the transfer used (``FileChecksum``), when one was computed or checked.
    public var checksum: FileChecksum?
    /// The content's digest by ``checksum``, lowercase hex.
    public var digest: String?

    /// A result checked by `checksum` (`nil`: none) with `digest`.
    init(delivery: Delivery, bytes: Int64, checksum: FileChecksum?, digest: String?, path: String?) {
        self.delivery = delivery
        self.bytes = bytes
        self.sha256 = checksum == .sha256 ? digest : nil
        self.path = path
        self.checksum = digest == nil ? nil : checksum
        self.digest = digest
    }
}
