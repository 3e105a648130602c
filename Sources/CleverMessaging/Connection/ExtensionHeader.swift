/// Header keys of this library's extensions. Reference peers ignore unknown
/// header keys (PROTOCOL.md section 1), so these never break them.
public enum ExtensionHeader {
    /// In a request: the sender understands error replies. A reply to such a
    /// request may carry `{"value": null, "error": {"code": ..., "message": ...}}`.
    public static let errorReplies = "x-clever-errors"
    /// In a binary frame: the SHA-256 of the content, lowercase hex.
    public static let sha256 = "sha256"
}
