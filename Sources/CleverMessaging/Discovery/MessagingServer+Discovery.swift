import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a ``MessagingServer`` takes part in discovery: its identity, its beacon,
/// and whether it listens for other servers (PROTOCOL.md section 5).
public struct ServerDiscovery: Sendable {
    /// The server's id. Default: a random 4-digit decimal string such as `"0815"`.
    public var id: String
    /// The server's start, in seconds since the Unix epoch. Default: now.
    public var startTime: Double
    /// The address announced to clients; `nil` (the default) announces ``localIPAddress()``.
    public var announcedHost: String?
    /// The beacon's target and interval; `nil` sends no beacon.
    /// Default: `127.0.0.1:8181` every 3 s (use ``DiscoveryBeacon/Configuration/broadcast(port:interval:)``
    /// for the reference's LAN broadcast).
    public var beacon: DiscoveryBeacon.Configuration?
    /// Where to hear other servers; when set, the server shuts itself down on
    /// hearing an earlier one (``DuplicateServerGuard``). The caller owns it:
    /// it is started if needed and not closed. Default `nil`: no guard.
    public var listener: DiscoveryListener?

    /// Creates the settings.
    /// - Parameters:
    ///   - id: the server's id (default: random 4 digits).
    ///   - startTime: the start time (default: now).
    ///   - announcedHost: the address to announce (default: ``localIPAddress()``).
    ///   - beacon: the beacon's target and interval (default `127.0.0.1:8181`, 3 s; `nil` for none).
    ///   - listener: where to hear other servers (default: none).
    public init(
        id: String = ServerDiscovery.randomID(),
        startTime: Double = ServerDiscovery.now(),
        announcedHost: String? = nil,
        beacon: DiscoveryBeacon.Configuration? = .init(),
        listener: DiscoveryListener? = nil
    ) {
        self.id = id
        self.startTime = startTime
        self.announcedHost = announcedHost
        self.beacon = beacon
        self.listener = listener
    }

    /// A random id in the reference's style: 4 decimal digits, zero-padded.
    /// - Returns: the id.
    public static func randomID() -> String {
        let digits = String(Int.random(in: 0...9999))
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    /// The current time in seconds since the Unix epoch (`CLOCK_REALTIME`).
    /// - Returns: the time, with sub-second precision.
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

extension MessagingServer {
    /// Binds and serves like ``run()``, announcing the server with a
    /// ``DiscoveryBeacon`` and, when ``ServerDiscovery/listener`` is set,
    /// shutting down on hearing an earlier server (logged at `.warning`:
    /// "another server <id> started earlier at <time>, shutting down").
    ///
    /// The announcement carries the bound port (the real one when 0 was asked).
    /// A beacon or guard that fails is logged at `.error` and the server goes on.
    /// - Parameter discovery: the identity, beacon and guard settings.
    /// - Returns: the earlier server that made this one shut down, or `nil`
    ///   when it stopped for another reason (``shutdown()``, cancellation).
    /// - Throws: when binding fails.
    @discardableResult
    public func run(discovery: ServerDiscovery) async throws -> ServerAnnouncement? {
        try await run(discovery: discovery, hooks: nil)
    }

    /// ``run(discovery:)``, with what a role adds to each link.
    func run(discovery: ServerDiscovery, hooks: LinkHooks?) async throws -> ServerAnnouncement? {
        enum Finished: Sendable {
            case server
            case helper(ServerAnnouncement?)
        }
        let logger = self.logger
        return try await withThrowingTaskGroup(of: Finished.self) { group in
            group.addTask {
                try await self.run(hooks: hooks)
                return .server
            }
            let address = try await localAddress()
            let announcement = ServerAnnouncement(
                host: discovery.announcedHost ?? localIPAddress(),
                port: address.port ?? port,
                id: discovery.id,
                startTime: discovery.startTime
            )
            if let configuration = discovery.beacon {
                let beacon = DiscoveryBeacon(announcement: announcement, configuration: configuration, logger: logger)
                group.addTask {
                    do {
                        try await beacon.run()
                    } catch {
                        logger.error("discovery beacon stopped: \(error)")
                    }
                    return .helper(nil)
                }
            }
            if let listener = discovery.listener {
                let guardian = DuplicateServerGuard(announcement: announcement)
                group.addTask {
                    do {
                        return .helper(try await guardian.protect(self, listener: listener))
                    } catch {
                        logger.error("duplicate-server guard stopped: \(error)")
                        return .helper(nil)
                    }
                }
            }
            var earlier: ServerAnnouncement?
            while let finished = try await group.next() {
                switch finished {
                case .server:
                    // The guard may report the earlier server just after the server stopped.
                    group.cancelAll()
                    while let rest = try? await group.next() {
                        if case .helper(let other?) = rest { earlier = other }
                    }
                    return earlier
                case .helper(let other):
                    if let other { earlier = other }
                }
            }
            return earlier
        }
    }
}
