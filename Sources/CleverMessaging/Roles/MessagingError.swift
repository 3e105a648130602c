import NIOCore

/// Why a call of this library failed: the one error type that connections,
/// requests, file transfers, handshakes, discovery and the roles throw.
///
/// Switch on ``code`` (stable across releases) to decide what to do, show
/// ``message`` to people, and look at ``cause`` for the underlying error
/// (a ``RemoteError``, a ``FilePolicyError``, a ``FrameEncodingError``, an
/// `IOError` carrying `errno`...). The cases carry the details.
public enum MessagingError: Error, Sendable, Hashable {
    // MARK: Connections and requests

    /// The connection is not connected, and frames sent now would not be kept
    /// (``ConnectionConfiguration/resumeQueue`` is off), or a drone has no link.
    case notConnected
    /// The connection, beacon or listener was closed for good; nothing more can be done with it.
    case closed
    /// The link dropped before the frame was written, the reply arrived or the
    /// transfer completed, and the configuration does not keep it for the next link.
    case connectionLost
    /// This side dropped the link because the peer showed no sign of life: no
    /// byte moved either way for `idle`, and a ping went unanswered
    /// (``ConnectionConfiguration/pingTimeout``).
    case peerUnresponsive(idle: Duration)
    /// A file transfer moved no byte for `idle`, its stall timeout
    /// (``ConnectionConfiguration/transferStallTimeout``); this side dropped its link.
    case transferStalled(idle: Duration)
    /// No reply to the request arrived in time.
    case timedOut(requestedValue: String, requestID: String, timeout: Duration)
    /// The call was cancelled by its caller.
    case cancelled
    /// More bytes are queued for the peer than the configured limit.
    case queueFull(queuedBytes: Int, limit: Int)
    /// The peer answered with an error reply (error extension), or refused a file.
    case remote(RemoteError)
    /// A frame could not be written.
    case encoding(FrameEncodingError)
    /// A reply's value could not be decoded to the expected type, or arguments
    /// could not be encoded to JSON.
    case decoding(String)
    /// Connecting to the peer failed.
    case connectFailed(host: String, port: Int, reason: String)
    /// The link did not pass its handshake (``ConnectionConfiguration/handshake``) and was closed.
    case handshakeFailed(HandshakeFailure)
    /// The peer has not acknowledged enough of the actions sent to it
    /// (acknowledged delivery): `count` actions of `bytes` bytes wait, and one
    /// more would pass ``DeliveryConfiguration/maximumUnacknowledged`` or
    /// ``DeliveryConfiguration/maximumUnacknowledgedBytes``. Nothing was sent.
    case resendWindowFull(count: Int, bytes: Int)

    // MARK: Files

    /// A path was refused by the receiving side's ``FilePolicy``.
    case fileRefused(FilePolicyError)
    /// A local file operation failed.
    case fileIO(operation: String, path: String, errno: Int32)
    /// The local file to send is not a regular file.
    case notRegularFile(String)
    /// The received bytes do not match the sender's digest (its SHA-256, or the
    /// ``FileChecksum`` two peers of this library agreed); nothing was written.
    case checksumMismatch(expected: String, actual: String)

    // MARK: Roles

    /// A port outside the range it must be in (`1...65535` to connect to or
    /// announce; `0...65535` to listen on, 0 picking a free port).
    case invalidPort(Int, allowed: ClosedRange<Int>)
    /// A server could not listen on its address (in use, not an address of this host...).
    case listenFailed(host: String, port: Int, reason: String)
    /// A wait ended before enough peers were there: `wanted` were asked for,
    /// `present` were there after `timeout`.
    case waitTimedOut(what: String, wanted: Int, present: Int, timeout: Duration)

    // MARK: Discovery

    /// The address cannot be used (not an IP address, no such host, port out of range).
    case invalidAddress(host: String, port: Int, reason: String)
    /// The target is the broadcast address but the beacon was not allowed to broadcast
    /// (pass `allowBroadcast: true` to send there).
    case broadcastNotAllowed(host: String, port: Int)
    /// A UDP socket could not be opened or bound.
    case bindFailed(host: String, port: Int, reason: String)
    /// A discovery datagram could not be sent.
    case beaconSendFailed(host: String, port: Int, reason: String)
    /// No server announcement arrived in time.
    case discoveryTimedOut(after: Duration)

    // MARK: Security

    /// TLS options could not be made (``TLSOptions``): `file` (when the PEM
    /// came from one) is missing, unreadable or not valid PEM, a key does not
    /// fit its certificate, or the options contradict each other.
    case invalidTLSConfiguration(file: String?, reason: String)
}

extension MessagingError {
    /// A machine-readable kind of ``MessagingError``: one per case, and some
    /// finer ones for a failed handshake (``authenticationFailed``...).
    ///
    /// The raw values are stable: they will not change between releases, so
    /// they may be logged, stored, compared and sent to other programs.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's text, in snake_case, such as `"timed_out"`.
        public let rawValue: String

        /// A code from its text.
        /// - Parameter rawValue: the text, such as `"timed_out"`.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// The code's text.
        public var description: String { rawValue }

        /// ``MessagingError/notConnected``.
        public static let notConnected = Code(rawValue: "not_connected")
        /// ``MessagingError/closed``.
        public static let closed = Code(rawValue: "closed")
        /// ``MessagingError/connectionLost``.
        public static let connectionLost = Code(rawValue: "connection_lost")
        /// ``MessagingError/peerUnresponsive(idle:)``.
        public static let peerUnresponsive = Code(rawValue: "peer_unresponsive")
        /// ``MessagingError/transferStalled(idle:)``.
        public static let transferStalled = Code(rawValue: "transfer_stalled")
        /// ``MessagingError/timedOut(requestedValue:requestID:timeout:)``.
        public static let timedOut = Code(rawValue: "timed_out")
        /// ``MessagingError/cancelled``.
        public static let cancelled = Code(rawValue: "cancelled")
        /// ``MessagingError/queueFull(queuedBytes:limit:)``.
        public static let queueFull = Code(rawValue: "queue_full")
        /// ``MessagingError/remote(_:)``.
        public static let remote = Code(rawValue: "remote")
        /// ``MessagingError/encoding(_:)``.
        public static let encoding = Code(rawValue: "encoding")
        /// ``MessagingError/decoding(_:)``.
        public static let decoding = Code(rawValue: "decoding")
        /// ``MessagingError/connectFailed(host:port:reason:)``.
        public static let connectFailed = Code(rawValue: "connect_failed")
        /// ``MessagingError/handshakeFailed(_:)``.
        public static let handshakeFailed = Code(rawValue: "handshake_failed")
        /// ``MessagingError/resendWindowFull(count:bytes:)``.
        public static let resendWindowFull = Code(rawValue: "resend_window_full")
        /// ``MessagingError/fileRefused(_:)``.
        public static let fileRefused = Code(rawValue: "file_refused")
        /// ``MessagingError/fileIO(operation:path:errno:)``.
        public static let fileIO = Code(rawValue: "file_io")
        /// ``MessagingError/notRegularFile(_:)``.
        public static let notRegularFile = Code(rawValue: "not_regular_file")
        /// ``MessagingError/checksumMismatch(expected:actual:)``.
        public static let checksumMismatch = Code(rawValue: "checksum_mismatch")
        /// ``MessagingError/invalidPort(_:allowed:)``.
        public static let invalidPort = Code(rawValue: "invalid_port")
        /// ``MessagingError/listenFailed(host:port:reason:)``.
        public static let listenFailed = Code(rawValue: "listen_failed")
        /// ``MessagingError/waitTimedOut(what:wanted:present:timeout:)``.
        public static let waitTimedOut = Code(rawValue: "wait_timed_out")
        /// ``MessagingError/invalidAddress(host:port:reason:)``.
        public static let invalidAddress = Code(rawValue: "invalid_address")
        /// ``MessagingError/broadcastNotAllowed(host:port:)``.
        public static let broadcastNotAllowed = Code(rawValue: "broadcast_not_allowed")
        /// ``MessagingError/bindFailed(host:port:reason:)``.
        public static let bindFailed = Code(rawValue: "bind_failed")
        /// ``MessagingError/beaconSendFailed(host:port:reason:)``.
        public static let beaconSendFailed = Code(rawValue: "beacon_send_failed")
        /// ``MessagingError/discoveryTimedOut(after:)``.
        public static let discoveryTimedOut = Code(rawValue: "discovery_timed_out")
        /// ``MessagingError/handshakeFailed(_:)`` because this side's token was
        /// refused, or the server's proof of it was wrong
        /// (``HandshakeFailure/Reason/authenticationFailed``).
        public static let authenticationFailed = Code(rawValue: "authentication_failed")
        /// ``MessagingError/handshakeFailed(_:)`` because the server requires a
        /// token this side did not prove (``HandshakeFailure/Reason/authenticationRequired``).
        public static let authenticationRequired = Code(rawValue: "authentication_required")
        /// ``MessagingError/handshakeFailed(_:)`` because the peer speaks another
        /// major version of the extension protocol (``HandshakeFailure/Reason/incompatibleVersion``).
        public static let incompatibleVersion = Code(rawValue: "incompatible_version")
        /// ``MessagingError/invalidTLSConfiguration(file:reason:)``.
        public static let invalidTLSConfiguration = Code(rawValue: "invalid_tls_configuration")

        /// Every code, in the order of the cases.
        public static let all: [Code] = [
            .notConnected, .closed, .connectionLost, .peerUnresponsive, .transferStalled, .timedOut, .cancelled, .queueFull, .remote, .encoding,
            .decoding, .connectFailed, .handshakeFailed, .resendWindowFull, .fileRefused, .fileIO, .notRegularFile,
            .checksumMismatch, .invalidPort, .listenFailed, .waitTimedOut, .invalidAddress, .broadcastNotAllowed,
            .bindFailed, .beaconSendFailed, .discoveryTimedOut, .authenticationFailed, .authenticationRequired, .incompatibleVersion,
            .invalidTLSConfiguration,
        ]
    }

    /// The error's kind, stable across releases (see ``Code``).
    public var code: Code {
        switch self {
        case .notConnected: return .notConnected
        case .closed: return .closed
        case .connectionLost: return .connectionLost
        case .peerUnresponsive: return .peerUnresponsive
        case .transferStalled: return .transferStalled
        case .timedOut: return .timedOut
        case .cancelled: return .cancelled
        case .queueFull: return .queueFull
        case .remote: return .remote
        case .encoding: return .encoding
        case .decoding: return .decoding
        case .connectFailed: return .connectFailed
        case .handshakeFailed(let failure):
            switch failure.reason {
            case .authenticationFailed: return .authenticationFailed
            case .authenticationRequired: return .authenticationRequired
            case .incompatibleVersion: return .incompatibleVersion
            default: return .handshakeFailed
            }
        case .resendWindowFull: return .resendWindowFull
        case .fileRefused: return .fileRefused
        case .fileIO: return .fileIO
        case .notRegularFile: return .notRegularFile
        case .checksumMismatch: return .checksumMismatch
        case .invalidPort: return .invalidPort
        case .listenFailed: return .listenFailed
        case .waitTimedOut: return .waitTimedOut
        case .invalidAddress: return .invalidAddress
        case .broadcastNotAllowed: return .broadcastNotAllowed
        case .bindFailed: return .bindFailed
        case .beaconSendFailed: return .beaconSendFailed
        case .discoveryTimedOut: return .discoveryTimedOut
        case .invalidTLSConfiguration: return .invalidTLSConfiguration
        }
    }

    /// A one-line explanation for people.
    public var message: String {
        switch self {
        case .notConnected: return "not connected"
        case .closed: return "closed"
        case .connectionLost: return "connection lost before completion"
        case .peerUnresponsive(let idle):
            return "peer unresponsive: nothing moved for \(LogFormat.duration(idle)) and a ping went unanswered"
        case .transferStalled(let idle): return "file transfer stalled: no byte moved for \(LogFormat.duration(idle))"
        case .timedOut(let value, let id, let timeout):
            return "request \(id) for \"\(value)\" timed out after \(LogFormat.duration(timeout))"
        case .cancelled: return "cancelled"
        case .queueFull(let queued, let limit): return "send queue full: \(queued) bytes queued, limit \(limit)"
        case .remote(let error): return "peer replied with error \(error.code): \(error.message)"
        case .encoding(let error): return "cannot encode frame: \(error)"
        case .decoding(let reason): return "cannot decode: \(reason)"
        case .connectFailed(let host, let port, let reason): return "cannot connect to \(host):\(port): \(reason)"
        case .handshakeFailed(let failure): return "\(failure)"
        case .resendWindowFull(let count, let bytes):
            return "resend window full: \(count) actions (\(bytes) bytes) wait for the peer's acknowledgement"
        case .fileRefused(let error): return "path refused: \(error)"
        case .fileIO(let operation, let path, let errno):
            return "cannot \(operation)\(path.isEmpty ? "" : " " + path): \(LogFormat.systemError(errno))"
        case .notRegularFile(let path): return "\(path) is not a regular file"
        case .checksumMismatch(let expected, let actual): return "checksum mismatch: expected \(expected), got \(actual)"
        case .invalidPort(let port, let allowed):
            return "invalid port \(port): a port must be in \(allowed.lowerBound)...\(allowed.upperBound)"
        case .listenFailed(let host, let port, let reason): return "cannot listen on \(host):\(port): \(reason)"
        case .waitTimedOut(let what, let wanted, let present, let timeout):
            return "timed out after \(LogFormat.duration(timeout)): \(present) of \(wanted) \(what)"
        case .invalidAddress(let host, let port, let reason): return "invalid address \(host):\(port): \(reason)"
        case .broadcastNotAllowed(let host, let port):
            return "\(host):\(port) is a broadcast address and broadcasting was not allowed (allowBroadcast: true)"
        case .bindFailed(let host, let port, let reason): return "cannot bind UDP socket to \(host):\(port): \(reason)"
        case .beaconSendFailed(let host, let port, let reason): return "cannot send beacon to \(host):\(port): \(reason)"
        case .discoveryTimedOut(let duration): return "no server announcement within \(LogFormat.duration(duration))"
        case .invalidTLSConfiguration(let file, let reason): return file.map { "\($0): \(reason)" } ?? reason
        }
    }

    /// The underlying error, when there is one: the peer's ``RemoteError``, the
    /// ``FilePolicyError`` that refused a path, the ``FrameEncodingError``, or
    /// an `IOError` carrying the `errno` of a failed file operation.
    public var cause: (any Error)? {
        switch self {
        case .remote(let error): return error
        case .encoding(let error): return error
        case .fileRefused(let error): return error
        case .fileIO(let operation, _, let errno): return IOError(errnoCode: errno, reason: operation)
        default: return nil
        }
    }
}

extension MessagingError: CustomStringConvertible {
    /// A one-line explanation (``message``).
    public var description: String { message }
}

/// Port checks shared by the roles, discovery and the CLI.
public enum PortRange {
    /// Ports a server may listen on: 0 picks a free one.
    public static let listening: ClosedRange<Int> = 0...65535
    /// Ports a peer may be reached at (0 is not a port one can connect to).
    public static let connectable: ClosedRange<Int> = 1...65535

    /// Checks that `port` is in `allowed`.
    /// - Parameters:
    ///   - port: the port.
    ///   - allowed: the range it must be in.
    /// - Throws: ``MessagingError/invalidPort(_:allowed:)`` when it is not.
    public static func check(_ port: Int, in allowed: ClosedRange<Int>) throws(MessagingError) {
        guard allowed.contains(port) else { throw .invalidPort(port, allowed: allowed) }
    }
}
