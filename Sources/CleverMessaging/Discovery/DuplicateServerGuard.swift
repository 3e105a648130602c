import Logging

/// Decides, as the reference does, when a server must give way to another one:
/// on hearing a server with a **different id** that started **strictly
/// earlier**, the later server shuts itself down (PROTOCOL.md section 5).
///
/// Its own beacon (same id) and newer servers are ignored: those newer servers
/// give way themselves when they hear this one.
public struct DuplicateServerGuard: Sendable, Hashable {
    /// This server's id.
    public var id: String
    /// This server's start, in seconds since the Unix epoch.
    public var startTime: Double

    /// Creates a guard.
    /// - Parameters:
    ///   - id: this server's id.
    ///   - startTime: this server's start, in seconds since the Unix epoch.
    public init(id: String, startTime: Double) {
        self.id = id
        self.startTime = startTime
    }

    /// Creates a guard for the server that `announcement` describes.
    /// - Parameter announcement: this server's own announcement.
    public init(announcement: ServerAnnouncement) {
        self.init(id: announcement.id, startTime: announcement.startTime)
    }

    /// Whether this server must shut down on hearing `other`.
    /// - Parameter other: a received announcement.
    /// - Returns: `true` when `other` has a different id and an earlier start time.
    public func mustYield(to other: ServerAnnouncement) -> Bool {
        other.id != id && other.startTime < startTime
    }

    /// The log line for giving way to `other`:
    /// `"another server <id> started earlier at <time>, shutting down"`.
    /// - Parameter other: the earlier server.
    /// - Returns: the message.
    public static func shutdownMessage(for other: ServerAnnouncement) -> String {
        "another server \(other.id) started earlier at \(ServerAnnouncement.pythonFloatString(other.startTime)), shutting down"
    }

    /// Listens until an earlier server is heard (binding `listener` first if needed).
    /// - Parameters:
    ///   - listener: where announcements arrive; it is not closed here.
    ///   - logger: where to log the servers that are ignored (debug level).
    /// - Returns: the earlier server, or `nil` when the listener was closed or the task cancelled.
    /// - Throws: ``MessagingError/bindFailed(host:port:reason:)`` or ``MessagingError/closed``
    ///   when the listener cannot be started.
    public func watch(_ listener: DiscoveryListener, logger: Logger) async throws(MessagingError) -> ServerAnnouncement? {
        let stream = listener.announcements()
        try await listener.start()
        for await other in stream {
            if mustYield(to: other) { return other }
            if other.id != id {
                logger.debug(
                    "another server is announcing; it started later and should give way",
                    metadata: ["server": "\(other)"]
                )
            }
        }
        return nil
    }

    /// Listens and shuts `server` down (``MessagingServer/shutdown()``) on
    /// hearing an earlier server, logging ``shutdownMessage(for:)`` at `.warning`.
    /// - Parameters:
    ///   - server: the server to stop.
    ///   - listener: where announcements arrive; it is not closed here.
    /// - Returns: the earlier server, or `nil` when the listener was closed or the task cancelled.
    /// - Throws: as ``watch(_:logger:)``.
    @discardableResult
    public func protect(_ server: MessagingServer, listener: DiscoveryListener) async throws(MessagingError) -> ServerAnnouncement? {
        guard let other = try await watch(listener, logger: server.logger) else { return nil }
        server.logger.warning(
            "\(Self.shutdownMessage(for: other))",
            metadata: ["own-id": "\(id)", "own-start-time": "\(ServerAnnouncement.pythonFloatString(startTime))"]
        )
        server.shutdown()
        return other
    }
}
