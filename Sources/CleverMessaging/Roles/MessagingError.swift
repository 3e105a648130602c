/// Why a server, a client or a ground station could not do what was asked.
public enum MessagingError: Error, Sendable, Hashable {
    /// A port outside the range it must be in (`1...65535` to connect to or
    /// announce; `0...65535` to listen on, 0 picking a free port).
    case invalidPort(Int, allowed: ClosedRange<Int>)
    /// A wait ended before enough peers were there: `wanted` were asked for,
    /// `present` were there after `timeout`.
    case waitTimedOut(what: String, wanted: Int, present: Int, timeout: Duration)
}

extension MessagingError: CustomStringConvertible {
    /// A one-line explanation.
    public var description: String {
        switch self {
        case .invalidPort(let port, let allowed):
            return "invalid port \(port): a port must be in \(allowed.lowerBound)...\(allowed.upperBound)"
        case .waitTimedOut(let what, let wanted, let present, let timeout):
            return "timed out after \(DurationText.describe(timeout)): \(present) of \(wanted) \(what)"
        }
    }
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
