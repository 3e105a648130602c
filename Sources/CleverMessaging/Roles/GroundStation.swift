import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OrderedCollections
import ServiceLifecycle

/// A ground station: a ``MessagingServer`` that identifies every drone that
/// connects and keeps one record per drone id across reconnects.
///
/// Like the reference server, it asks each new connection for `id` and
/// `clover_dir` (in one write). This is the last stage of every link's
/// handshake (``IdentifyStage``): a link opens only once its `id` is answered,
/// so nothing from the drone reaches a handler, and nothing queued for it is
/// written, before then; a link that does not answer `id` within
/// ``identifyTimeout`` (or answers `null`, or an error) is closed with a
/// ``HandshakeFailure``. A drone that reconnects, from anywhere, finds its record
/// again. Connect, first-connect and disconnect events are delivered through
/// ``events()``.
///
/// One id has one link. A new link that answers the id of a drone whose link
/// is up is taken as that drone reconnecting (its old link is stale, and
/// dropped) when it comes from the same host; from another host it is a
/// second drone with the same id (a cloned SD card, say): the drone already
/// connected keeps its link and its record, the newcomer's link is closed
/// before it opens (its handshake fails with code `duplicate_id`), and ``Event/duplicateRefused(id:address:)`` says so. (A drone whose
/// address changed while its old link was half-open is then let in once that
/// link times out, by TCP keepalive or the ping sweeper.)
///
/// Two drones of one host answering one id are taken for one drone
/// reconnecting, and each new link replaces the other's; when one id's link
/// is replaced three times within a minute, the station
/// logs it once, at warning level, naming both addresses.
public final class GroundStation: Sendable {
    /// What the station knows of one drone.
    public struct Drone: Sendable, Hashable {
        /// The id the drone answered.
        public var id: String
        /// Its address on the current or last link.
        public var address: String
        /// Whether a link is up.
        public var isConnected: Bool
        /// When the current (or last) link came up, as Unix time.
        public var since: Double
        /// Its `clover_dir` answer, if any.
        public var cloverDir: String?
        /// How many times it connected.
        public var connections: Int
    }

    /// A change in the fleet.
    public enum Event: Sendable, Hashable {
        /// A drone connected for the first time since the station started.
        case firstConnected(Drone)
        /// A known drone connected again.
        case reconnected(Drone)
        /// A drone's link went down (or was found stale: the drone connected
        /// again before its old link was seen to close; this event then comes
        /// just before ``reconnected(_:)``).
        case disconnected(Drone)
        /// A link from `address` answered the id of a drone connected from
        /// another host; it was closed, and the connected drone kept its link.
        /// Said once per host while that drone stays connected (a refused
        /// drone may try again and again).
        case duplicateRefused(id: String, address: String)
    }

    /// The server underneath.
    public let server: MessagingServer
    /// The logger.
    public let logger: Logger
    /// How long to wait for a new connection's `id` answer.
    public let identifyTimeout: Duration
    /// The latest telemetry record of each drone (``telemetry(of:)``).
    let telemetryStore = TelemetryStore()
    /// The drones' clocks: offsets, their measuring schedule, threshold events.
    let clocks: StationClocks

    private struct Entry {
        var drone: Drone
        var connection: Connection?
        /// The hosts refused this id while `connection` is up (each is reported once).
        var refusedHosts: Set<String> = []
    }

    private struct State {
        var drones: [String: Entry] = [:]
        var byConnection: [Int: String] = [:]
        /// How many drones have a link up (kept so that counting is O(1)).
        var connectedCount = 0
        /// Notices an id whose links keep replacing each other.
        var flaps = IDFlapDetector()
        /// The event streams. Published to under this state's lock, so that events
        /// reach readers in the order the state changed.
        let subscribers = EventSubscribers<Event>()
    }

    private let state: NIOLockedValueBox<State>
    /// Woken when the count of connected drones changes.
    private let waiters = StateWaiters()

    /// Creates a ground station; nothing happens until ``run()``.
    /// - Parameters:
    ///   - host: the address to listen on (default 127.0.0.1).
    ///   - port: the TCP port (default 25000; 0 for any); checked by ``run()``.
    ///   - registry: handlers for what drones send (the station adds its own for the
    ///     `telemetry` action, which keeps each drone's latest record: ``telemetry(of:)``).
    ///   - configuration: settings for every connection (the station appends its
    ///     identify stage to ``ConnectionConfiguration/handshake``; the whole
    ///     handshake, identify included, must pass within the longer of
    ///     ``ConnectionConfiguration/handshakeTimeout`` and `identifyTimeout`).
    ///   - identifyTimeout: how long a new connection has to answer `id` (default 2 s).
    ///   - maximumConnections: the most connections served at once (default 20,000; `nil`: no limit).
    ///   - maximumConnectionsPerAddress: the most connections from one IP address at once (default: no limit).
    ///   - group: the event loops.
    ///   - logger: where to log.
    ///   - tls: server ``TLSOptions`` for `host:port` (default `nil`: plain). With
    ///     ``TLSOptions/idFromCommonName``, a drone's id is its client
    ///     certificate's common name, and a drone whose `id` answer differs is refused.
    ///   - additionalListeners: more addresses to accept drones on at the same time,
    ///     plain or TLS (``MessagingServer/Listener``).
    ///   - clock: how the drones' clocks are measured (``ClockConfiguration``; default: every 10 s).
    public init(
        host: String = "127.0.0.1",
        port: Int = 25000,
        registry: HandlerRegistry = HandlerRegistry(),
        configuration: ConnectionConfiguration = .init(),
        identifyTimeout: Duration = .seconds(2),
        maximumConnections: Int? = 20_000,
        maximumConnectionsPerAddress: Int? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "clever.station"),
        tls: TLSOptions? = nil,
        additionalListeners: [MessagingServer.Listener] = [],
        clock: ClockConfiguration = .init()
    ) {
        self.logger = logger
        self.identifyTimeout = identifyTimeout
        telemetryStore.install(on: registry)
        let state = NIOLockedValueBox(State())
        self.state = state
        var configuration = configuration
        configuration.handshake.append(
            StationIdentifyStage.Factory(timeout: identifyTimeout) { identity, link in
                Self.admit(identity, link: link, state: state, logger: logger)
            }
        )
        configuration.handshakeTimeout = max(configuration.handshakeTimeout, identifyTimeout)
        let server = MessagingServer(
            host: host,
            port: port,
            registry: registry,
            configuration: configuration,
            maximumConnections: maximumConnections,
            maximumConnectionsPerAddress: maximumConnectionsPerAddress,
            group: group,
            logger: logger,
            tls: tls,
            additionalListeners: additionalListeners
        )
        self.server = server
        self.clocks = StationClocks(configuration: clock, metrics: server.metrics)
    }

    deinit {
        finishEvents()
    }

    /// What the station does with each link: register the drone its handshake
    /// identified once the link is open, and forget its link when it goes down.
    /// Held by the server only while ``run()`` runs.
    private var hooks: MessagingServer.LinkHooks {
        MessagingServer.LinkHooks(
            up: { [self] connection in
                guard let identity = connection.handshakeResult(IdentifyStage.Identity.self) else { return }
                self.register(id: identity.id, cloverDir: identity.cloverDirectory, connection: connection)
            },
            down: { [self] connection in self.lost(connection) }
        )
    }

    /// Serves until cancelled, a graceful shutdown, or ``shutdown()``.
    /// - Throws: ``MessagingError/invalidPort(_:allowed:)``, or ``MessagingError/listenFailed(host:port:reason:)`` when binding fails.
    public func run() async throws {
        defer { finishEvents() }
        try await withClockLoop { try await server.run(hooks: hooks) }
    }

    /// Serves like ``run()``, with a discovery beacon and, optionally, the
    /// duplicate-server guard (see ``MessagingServer/run(discovery:)``).
    /// - Parameter discovery: the discovery settings.
    /// - Returns: the earlier server that made this one stop, if that is why it stopped.
    /// - Throws: ``MessagingError`` when binding fails.
    @discardableResult
    public func run(discovery: ServerDiscovery) async throws -> ServerAnnouncement? {
        defer { finishEvents() }
        return try await withClockLoop { try await server.run(discovery: discovery, hooks: hooks) }
    }

    private func finishEvents() {
        telemetryStore.finishUpdates()
        state.withLockedValue { $0.subscribers }.finish()
        clocks.finish()
    }

    /// Stops ``run()``.
    public func shutdown() {
        server.shutdown()
    }

    /// Every drone seen, sorted by id.
    public var drones: [Drone] {
        state.withLockedValue { $0.drones.values.map(\.drone) }.sorted { $0.id < $1.id }
    }

    /// The connection of drone `id`, if its link is up.
    /// - Parameter id: the drone id.
    /// - Returns: the connection.
    public func connection(for id: String) -> Connection? {
        state.withLockedValue { $0.drones[id]?.connection }
    }

    /// The drones `ids` names, in that order, or every drone the station
    /// knows (connected or not), in table order, when `ids` is `nil`: each
    /// with its link, if up, and whether the station knows it.
    func targets(_ ids: [String]?) -> [DroneTarget] {
        state.withLockedValue { s in
            guard let ids else {
                return s.drones.values.map { DroneTarget(id: $0.drone.id, connection: $0.connection, known: true) }
            }
            return ids.map { id in
                let entry = s.drones[id]
                return DroneTarget(id: id, connection: entry?.connection, known: entry != nil)
            }
        }
    }

    /// Waits until one of the drones `ids` has a link, woken by the station's
    /// changes (no polling).
    /// - Parameters:
    ///   - ids: the drones.
    ///   - timeout: how long to wait.
    /// - Returns: whether one has a link (`false`: timed out or cancelled).
    func waitForLink(amongAnyOf ids: [String], timeout: Duration) async -> Bool {
        await waiters.wait(timeout: timeout) { [weak self] in
            guard let self else { return false }
            return self.state.withLockedValue { s in ids.contains { s.drones[$0]?.connection != nil } }
        }
    }

    /// Waits until drone `id` has a link other than `old` (the one that
    /// dropped), woken by the station's own changes.
    /// - Parameters:
    ///   - id: the drone.
    ///   - old: its link that dropped.
    ///   - timeout: the longest wait.
    /// - Returns: the new link, or `nil` when none came in time.
    func waitForNewLink(of id: String, replacing old: Connection, timeout: Duration) async -> Connection? {
        let state = self.state
        let current: @Sendable () -> Connection? = {
            state.withLockedValue { s in s.drones[id]?.connection.flatMap { $0 === old ? nil : $0 } }
        }
        guard await waiters.wait(timeout: timeout, until: { current() != nil }) else { return nil }
        return current()
    }

    /// The ids of connected drones, sorted.
    public var connectedIDs: [String] {
        state.withLockedValue { $0.drones.values.filter { $0.connection != nil }.map(\.drone.id) }.sorted()
    }

    /// How many drones are connected and identified (O(1), unlike ``connectedIDs``).
    public var connectedCount: Int {
        state.withLockedValue { $0.connectedCount }
    }

    /// A stream of fleet events from now on (each call gets its own stream).
    /// - Returns: the events; the stream ends when the station stops.
    public func events() -> AsyncStream<Event> {
        state.withLockedValue { $0.subscribers }.subscribe()
    }

    /// Waits until at least `count` drones are connected and identified.
    /// - Parameters:
    ///   - count: how many.
    ///   - timeout: how long to wait.
    /// - Returns: the ids of the connected drones, sorted.
    /// - Throws: ``MessagingError/waitTimedOut(what:wanted:present:timeout:)`` when
    ///   fewer are connected after `timeout`.
    @discardableResult
    public func waitForDrones(_ count: Int, timeout: Duration) async throws(MessagingError) -> [String] {
        let held = await waiters.wait(timeout: timeout) { [weak self] in (self?.connectedCount ?? 0) >= count }
        let present = connectedCount
        guard held || present >= count else {
            throw .waitTimedOut(what: "drones connected", wanted: count, present: present, timeout: timeout)
        }
        return connectedIDs
    }

    /// A drone refused because its id is connected from another host.
    private struct Refusal {
        /// The address of the drone that keeps the id.
        var holder: String
        /// Whether this host is refused for the first time while that drone is connected.
        var first: Bool
    }

    /// The station's admission of a link whose identify stage passed: `nil` to
    /// let it open, or the handshake error that closes it. Runs on the link's
    /// event loop, in its handshake.
    private static func admit(
        _ identity: IdentifyStage.Identity,
        link: HandshakeLink,
        state: NIOLockedValueBox<State>,
        logger: Logger
    ) -> HandshakeFailure? {
        guard let refusal = state.withLockedValue({ refuse(id: identity.id, from: link.remoteAddress, except: nil, in: &$0) }) else {
            return nil
        }
        log(refusal, id: identity.id, address: describe(link.remoteAddress), logger: logger)
        return HandshakeFailure(
            reason: .duplicateID,
            stage: "identify",
            message: "drone \(identity.id) is connected from \(refusal.holder)"
        )
    }

    /// Whether a link from `remote` that answered `id` is refused: the drone
    /// with that id is connected from another host. A refusal is published once
    /// per host while that drone stays connected. Called under the state lock.
    private static func refuse(id: String, from remote: SocketAddress?, except connection: Connection?, in s: inout State) -> Refusal? {
        guard var entry = s.drones[id], let holder = entry.connection, holder !== connection, holder.isConnected,
            !sameHost(holder.remoteAddress, remote)
        else { return nil }
        let address = describe(remote)
        let first = entry.refusedHosts.insert(remote?.ipAddress ?? address).inserted
        s.drones[id] = entry
        if first { publish([.duplicateRefused(id: id, address: address)], to: s) }
        return Refusal(holder: entry.drone.address, first: first)
    }

    /// Said once per host while the connected drone stays up: a refused
    /// drone that reconnects at once would otherwise say it many times a second.
    private static func log(_ refusal: Refusal, id: String, address: String, logger: Logger) {
        logger.log(
            level: refusal.first ? .warning : .debug,
            "refused a second drone with a connected drone's id; its link is closed",
            metadata: ["id": "\(id)", "address": "\(address)", "connected": "\(refusal.holder)"]
        )
    }

    /// `ip:port` of a drone's address, or `?`.
    private static func describe(_ address: SocketAddress?) -> String {
        address.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
    }

    /// Enters the drone that `connection`'s handshake identified in the table,
    /// once its link is open.
    func register(id: String, cloverDir: String?, connection: Connection) {
        let address = Self.describe(connection.remoteAddress)
        let now = Self.unixTime()
        let instant = ContinuousClock.now
        var flap: (replacedAddress: String, decision: IDFlapDetector.Decision)?
        let (events, replaced, refusal) = state.withLockedValue { s -> ([Event], Connection?, Refusal?) in
            guard connection.isConnected else { return ([], nil, nil) }
            // Two links of one id from two hosts admitted at the same time: the later one is refused here.
            if let refusal = Self.refuse(id: id, from: connection.remoteAddress, except: connection, in: &s) {
                return ([], nil, refusal)
            }
            var entry = s.drones[id] ?? Entry(drone: Drone(id: id, address: address, isConnected: true, since: now, cloverDir: cloverDir, connections: 0))
            let first = entry.drone.connections == 0
            let replaced = entry.connection
            entry.refusedHosts = []
            var events: [Event] = []
            if let replaced, replaced !== connection {
                // The old link's close was not seen yet (it may be on another event
                // loop, or half-open): it is lost now, and said so first.
                s.byConnection.removeValue(forKey: replaced.number)
                flap = (entry.drone.address, s.flaps.replaced(id: id, at: instant))
                var old = entry.drone
                old.isConnected = false
                events.append(.disconnected(old))
            }
            if replaced == nil { s.connectedCount += 1 }
            entry.drone.address = address
            entry.drone.isConnected = true
            entry.drone.since = now
            entry.drone.connections += 1
            if let cloverDir { entry.drone.cloverDir = cloverDir }
            entry.connection = connection
            s.drones[id] = entry
            s.byConnection[connection.number] = id
            events.append(first ? .firstConnected(entry.drone) : .reconnected(entry.drone))
            Self.publish(events, to: s)
            return (events, replaced, nil)
        }
        if let refusal {
            Self.log(refusal, id: id, address: address, logger: logger)
            connection.dropLink()
            return
        }
        if let replaced, replaced !== connection {
            // The same drone on a new link: the old link is stale.
            replaced.dropLink()
        }
        if let flap, case .warn(let count) = flap.decision {
            // Two drones of one host answering one id replace each other's link at every
            // reconnect: nothing but the operator can end that.
            logger.warning(
                "\(id) connected from two links (\(address) replaced \(flap.replacedAddress)); two drones may share this id",
                metadata: ["id": "\(id)", "replacements": "\(count)"]
            )
        }
        guard !events.isEmpty else { return }
        clocks.linked(id)
        waiters.changed()
        logger.debug("drone connected", metadata: ["id": "\(id)", "address": "\(address)"])
    }

    /// Whether two links come from the same host (an unknown address counts as the same:
    /// a link is never refused for want of an address).
    private static func sameHost(_ a: SocketAddress?, _ b: SocketAddress?) -> Bool {
        guard let hostA = a?.ipAddress, let hostB = b?.ipAddress else { return true }
        return hostA == hostB
    }

    /// Hands `events` to every subscriber. Called under the state lock, so that
    /// events reach subscribers in the order the state changed, even when two
    /// event loops register or lose drones at once (yielding never waits, and
    /// runs no subscriber code).
    private static func publish(_ events: [Event], to s: State) {
        for event in events { s.subscribers.publish(event) }
    }

    private func lost(_ connection: Connection) {
        let drone = state.withLockedValue { s -> Drone? in
            guard let id = s.byConnection.removeValue(forKey: connection.number), var entry = s.drones[id],
                entry.connection === connection
            else { return nil }
            entry.connection = nil
            entry.refusedHosts = []
            entry.drone.isConnected = false
            s.connectedCount -= 1
            s.drones[id] = entry
            Self.publish([.disconnected(entry.drone)], to: s)
            return entry.drone
        }
        guard let drone else { return }
        clocks.unlinked(drone.id)
        waiters.changed()
        logger.debug("drone disconnected", metadata: ["id": "\(drone.id)", "address": "\(drone.address)"])
    }

    static func unixTime() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// Runs in a `ServiceGroup`; a graceful shutdown stops it as ``GroundStation/shutdown()`` does.
extension GroundStation: Service {}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
