/// The limits the NATS parser checks before it buffers anything.
public struct NATSParserLimits: Sendable, Hashable, Codable {
    /// The longest protocol line (an `INFO` line included), in bytes without its CRLF. Default 64 KiB.
    public var maximumLineLength: Int
    /// The largest payload (headers included) accepted before the server's `INFO`
    /// says otherwise, in bytes. Default 1 MiB.
    public var maximumPayload: Int
    /// The largest payload any `INFO` can raise the limit to, in bytes. Default 64 MiB.
    public var payloadCeiling: Int

    /// Limits with the documented defaults, or the values given.
    /// - Parameters:
    ///   - maximumLineLength: the longest protocol line.
    ///   - maximumPayload: the largest payload before `INFO`.
    ///   - payloadCeiling: the largest payload an `INFO` can allow.
    public init(maximumLineLength: Int = 65_536, maximumPayload: Int = 1_048_576, payloadCeiling: Int = 67_108_864) {
        self.maximumLineLength = maximumLineLength
        self.maximumPayload = maximumPayload
        self.payloadCeiling = payloadCeiling
    }
}
