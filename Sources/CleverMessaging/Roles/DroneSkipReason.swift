/// Why a ``GroundStation`` call that reaches several drones did not reach
/// one of them, or got no value from it.
///
/// Its raw value is a stable snake_case word, for logs and JSON.
public enum DroneSkipReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The station knows the drone, but it has no link (it is reconnecting, or gone).
    case disconnected
    /// The station has never seen a drone with this id.
    case unknown
    /// The drone's link would not take the frame: its send queue is full
    /// (``MessagingError/queueFull(queuedBytes:limit:)``) or it is closing.
    case refused
    /// The drone did not answer in time.
    case timedOut = "timed_out"
    /// The drone answered with an error.
    case remoteError = "remote_error"
    /// The link went down before the frame was written or the answer came.
    case linkLost = "link_lost"
    /// Anything else: the answer did not decode, the call was cancelled.
    case failed

    /// The reason an error gives.
    /// - Parameters:
    ///   - error: why the drone was not reached.
    ///   - known: whether the station knows the drone (so that a missing link
    ///     reads as ``disconnected`` rather than ``unknown``).
    public init(_ error: MessagingError, known: Bool) {
        switch error {
        case .notConnected: self = known ? .disconnected : .unknown
        case .queueFull, .closed: self = .refused
        case .timedOut: self = .timedOut
        case .remote: self = .remoteError
        case .connectionLost: self = .linkLost
        default: self = .failed
        }
    }

    /// The reason in a few words, as the console prints it: `disconnected`,
    /// `unknown`, `refused`, `timed out`, `remote error`, `link lost`, `failed`.
    public var words: String {
        switch self {
        case .timedOut: return "timed out"
        case .remoteError: return "remote error"
        case .linkLost: return "link lost"
        default: return rawValue
        }
    }
}
