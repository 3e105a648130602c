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
    /// The SHA-256 of the content, lowercase hex, when it was computed or checked.
    public var sha256: String?
    /// The local path written (for a pull).
    public var path: String?
}
