import Logging
import NIOConcurrencyHelpers
import NIOCore

/// How a ``MessagingClient`` finds its server again (PROTOCOL.md section 5).
public struct ClientDiscovery: Sendable, Hashable {
    /// Where to listen for beacons. Default `0.0.0.0:8181`, the reference's port.
    public var listener: DiscoveryListener.Configuration
    /// How long to wait for a beacon once ``ReconnectPolicy/attemptsBeforeDiscovery``
    /// attempts in a row have failed; after it the client goes back to retrying
    /// its last server, and follows the first beacon heard while still
    /// disconnected. `nil` waits until a beacon arrives, as the reference does.
    /// Default 10 s.
    public var timeout: Duration?
    /// Follow only the server with this id; `nil` (the default) follows any.
    public var serverID: String?

    /// Creates the settings.
    /// - Parameters:
    ///   - listener: where to listen (default `0.0.0.0:8181`).
    ///   - timeout: how long to wait for a beacon (default 10 s; `nil` waits until one arrives).
    ///   - serverID: the only server id to follow (default: any).
    public init(
        listener: DiscoveryListener.Configuration = .init(),
        timeout: Duration? = .seconds(10),
        serverID: String? = nil
    ) {
        self.listener = listener
        self.timeout = timeout
        self.serverID = serverID
    }
}

extension MessagingClient {
    /// Connects and keeps connected like ``run(onAttemptsExhausted:)``, and
    /// falls back to discovery: after ``ReconnectPolicy/attemptsBeforeDiscovery``
    /// failed attempts in a row it waits for a server beacon and calls
    /// ``rebind(host:port:)`` with the announced host and port, so the **same**
    /// ``connection`` links to the new server.
    ///
    /// The listener is bound for the whole run, so it may be shared with other
    /// listeners of the host (`SO_REUSEADDR`/`SO_REUSEPORT`; see ``DiscoveryBeacon``
    /// about unicast beacons). When it cannot be bound, the error is logged and
    /// the client runs without discovery.
    /// - Parameter discovery: where to listen and how long to wait.
    /// - Throws: ``MessagingError/invalidPort(_:allowed:)`` when the server's
    ///   port, or the listener's, is outside its range.
    public func run(discovery: ClientDiscovery) async throws {
        try PortRange.check(discovery.listener.port, in: PortRange.listening)
        let listener = DiscoveryListener(configuration: discovery.listener, logger: logger)
        do {
            try await run(discovery: listener, timeout: discovery.timeout, serverID: discovery.serverID)
        } catch {
            await listener.close()
            throw error
        }
        await listener.close()
    }

    /// Connects and keeps connected, falling back to discovery through
    /// `listener` (see ``run(discovery:)``).
    /// - Parameters:
    ///   - listener: where beacons arrive; started here if needed, not closed.
    ///   - timeout: how long to wait for a beacon before retrying the last server
    ///     (which goes on while listening); `nil` waits until one arrives. Default 10 s.
    ///   - serverID: the only server id to follow (default: any).
    /// - Throws: ``MessagingError/invalidPort(_:allowed:)`` when the server's port is outside `1...65535`;
    ///   ``MessagingError/invalidAddress(host:port:reason:)`` when the listener's is outside `0...65535`.
    public func run(discovery listener: DiscoveryListener, timeout: Duration? = .seconds(10), serverID: String? = nil) async throws {
        try PortRange.check(server.port, in: PortRange.connectable)
        // Subscribe before binding so no beacon between the two is lost.
        let lateBeacons = listener.announcements()
        do throws(MessagingError) {
            try await listener.start()
        } catch .invalidAddress(let host, let port, let reason) {
            throw MessagingError.invalidAddress(host: host, port: port, reason: reason)
        } catch {
            logger.error("cannot listen for server announcements, running without discovery: \(error)")
            try await run()
            return
        }
        let accepts: @Sendable (ServerAnnouncement) -> Bool = { serverID == nil || $0.id == serverID }
        // Set when a wait for a beacon timed out: the link count at that moment.
        let stillSearching = NIOLockedValueBox<Int?>(nil)
        let connection = self.connection
        let logger = self.logger

        // Each child reports whether it was the client's run loop.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await self.run { client in
                    stillSearching.withLockedValue { $0 = nil }
                    let (host, port) = client.server
                    logger.debug(
                        "server \(host):\(port) unreachable; waiting for a server announcement",
                        metadata: ["timeout": "\(timeout.map { LogFormat.duration($0) } ?? "none")"]
                    )
                    switch await Self.waitForBeacon(listener, timeout: timeout, accepts: accepts, client: client) {
                    case .success(let announcement):
                        logger.debug("server announced; rebinding", metadata: ["server": "\(announcement)"])
                        client.rebind(host: announcement.host, port: announcement.port)
                    case .failure(.timedOut):
                        logger.debug("no server announcement in time; retrying \(host):\(port) while listening")
                        stillSearching.withLockedValue { $0 = connection.linkCount }
                    case .failure(let error):
                        logger.debug("stopped waiting for a server announcement: \(error)")
                    }
                }
                return true
            }
            // Follows a beacon heard after a wait timed out, while the client is still disconnected.
            group.addTask {
                for await announcement in lateBeacons where accepts(announcement) {
                    let follow = stillSearching.withLockedValue { searching -> Bool in
                        guard let links = searching else { return false }
                        guard connection.linkCount == links, !connection.isConnected else {
                            searching = nil
                            return false
                        }
                        searching = nil
                        return true
                    }
                    if follow {
                        logger.debug("server announced; rebinding", metadata: ["server": "\(announcement)"])
                        self.rebind(host: announcement.host, port: announcement.port)
                    }
                }
                return false
            }
            // The follower ends early only when the listener is closed; the client runs on.
            while let wasRunLoop = try await group.next(), !wasRunLoop {}
            group.cancelAll()
        }
    }

    /// Waits for an accepted beacon, the timeout, the client's ``shutdown()``,
    /// or cancellation, whichever comes first.
    private static func waitForBeacon(
        _ listener: DiscoveryListener,
        timeout: Duration?,
        accepts: @escaping @Sendable (ServerAnnouncement) -> Bool,
        client: MessagingClient
    ) async -> Result<ServerAnnouncement, MessagingError> {
        await withTaskGroup(of: Result<ServerAnnouncement, MessagingError>.self) { group in
            group.addTask {
                do throws(MessagingError) {
                    return .success(try await listener.nextAnnouncement(timeout: timeout, where: accepts))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                let stopped = await client.stopping.wait { [weak client] in client?.isStopped ?? true }
                return .failure(stopped ? .closed : .cancelled)
            }
            let first = await group.next() ?? .failure(.cancelled)
            group.cancelAll()
            return first
        }
    }
}
