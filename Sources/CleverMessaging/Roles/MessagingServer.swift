import OrderedCollections
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A server that accepts many peers (the ground-station side of the link).
///
/// ``run()`` binds, then serves each accepted link (each on its own event loop
/// of a multi-threaded group), with the handler work of every connection in
/// child tasks of one task group, until the
/// calling task is cancelled, a graceful shutdown is signalled (it is a
/// `Service`), or ``shutdown()`` is called; it then stops accepting, closes
/// every connection after writing what was queued for it, and returns once
/// every link is down and every handler has ended.
///
/// Links coming up and going down are told through ``events()``.
public final class MessagingServer: Sendable {
    /// The address to listen on. Default `"127.0.0.1"`.
    public let host: String
    /// The port to listen on; 0 picks a free one (see ``localAddress()``). Default 25000.
    public let port: Int
    /// The handlers shared by every accepted connection.
    public let registry: HandlerRegistry
    /// The settings every accepted connection gets.
    public let configuration: ConnectionConfiguration
    /// The most connections served at once; one more is closed as soon as it
    /// is accepted (with a warning), so that a flood of connections cannot
    /// take the process's memory and descriptors. `nil`: no limit but the system's.
    public let maximumConnections: Int?
    /// The most connections served at once from one IP address; one more from
    /// that address is closed as soon as it is accepted. `nil`: no limit.
    public let maximumConnectionsPerAddress: Int?
    /// The logger.
    public let logger: Logger
    /// Every address the server listens on: ``host`` and ``port`` (with the
    /// `tls` given to the initializer) first, then the additional listeners.
    public let listeners: [Listener]
    /// Where its links are counted (``ConnectionConfiguration/metrics``, else
    /// ``CleverMetrics/bootstrapped()``; `nil`: nowhere), clock offsets too.
    public let metrics: CleverMetrics?

    /// A link that came up or went down.
    public enum Event: Sendable {
        /// A new connection's link is up.
        case connected(Connection)
        /// A connection's link went down; the connection is closed.
        case disconnected(Connection)
    }

    let group: any EventLoopGroup
    /// The bound address of each listener, in order.
    private let bound: EventLoopPromise<[SocketAddress]>
    /// Whether `bound` was completed (completing it again after the event
    /// loops shut down would make NIO complain).
    private let boundSettled = NIOLockedValueBox(false)
    let state: NIOLockedValueBox<ServerState>
    /// Woken when the table of connections changes.
    let waiters = StateWaiters()

    struct ServerState {
        /// By ``Connection/number``, which grows with each accept. A plain dictionary:
        /// removing from an ordered one is linear, and thousands of drones may drop at once.
        var connections: [Int: Connection] = [:]
        var channel: (any Channel)?
        /// The channels of the additional listeners.
        var moreChannels: [any Channel] = []
        var shutdownRequested = false
        /// The channel of every link served, until it is down.
        var links: [Int: any Channel] = [:]
        /// Links up per IP address, and each link's address (kept only with ``maximumConnectionsPerAddress``).
        var perAddress = LinksPerAddress()
    }

    /// The acknowledged-delivery sessions of the clients (``DeliveryConfiguration``).
    let deliverySessions: DeliverySessions
    private let subscribers = EventSubscribers<Event>()
    /// Told of every link refused (``refusals()``).
    let refusalSubscribers = EventSubscribers<LinkRefusal>()
    /// The handler work of every connection, for the task group of ``run()``.
    private let handlerTasks = HandlerTaskQueue()
    /// The deadlines of all its links: one timer per event loop.
    private let linkTimers = LinkTimers()

    /// What a role adds to each link, run on the link's event loop
    /// (``GroundStation`` registers the drone its handshake identified here).
    struct LinkHooks: Sendable {
        /// Runs once the link is open (its handshake passed), on its event loop;
        /// not at all for a link that closes before.
        var up: @Sendable (Connection) -> Void
        /// Runs once the link is down and its connection closed.
        var down: @Sendable (Connection) -> Void
    }

    /// Creates a server; nothing happens until ``run()``.
    /// - Parameters:
    ///   - host: the address to listen on.
    ///   - port: the port (0 for any free port); checked by ``run()``.
    ///   - registry: handlers shared by all connections.
    ///   - configuration: settings for every connection.
    ///   - maximumConnections: the most connections served at once (default: no limit).
    ///   - maximumConnectionsPerAddress: the most connections from one IP address at once (default: no limit).
    ///   - group: the event loops (default: NIO's shared multi-threaded group).
    ///   - logger: where to log.
    ///   - tls: server ``TLSOptions`` for the links accepted on `host:port`
    ///     (default `nil`: the plain protocol, as the reference's).
    ///   - additionalListeners: more addresses to accept links on at the same
    ///     time, each plain or TLS (such as a plain port for reference drones
    ///     beside a TLS one); their links are served as the others.
    public init(
        host: String = "127.0.0.1",
        port: Int = 25000,
        registry: HandlerRegistry,
        configuration: ConnectionConfiguration = .init(),
        maximumConnections: Int? = nil,
        maximumConnectionsPerAddress: Int? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "clever.server"),
        tls: TLSOptions? = nil,
        additionalListeners: [Listener] = []
    ) {
        self.host = host
        self.port = port
        self.listeners = [Listener(host: host, port: port, tls: tls)] + additionalListeners
        self.registry = registry
        self.configuration = configuration
        self.metrics = configuration.metrics ?? CleverMetrics.bootstrapped()
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
        self.group = group
        self.logger = logger
        self.bound = group.any().makePromise()
        let state = NIOLockedValueBox(ServerState())
        self.state = state
        self.deliverySessions = DeliverySessions(configuration: configuration.delivery) { number in
            state.withLockedValue { $0.connections[number] }
        }
    }

    deinit {
        if !boundSettled.withLockedValue({ $0 }) { bound.fail(MessagingError.closed) }
    }

    /// How many acknowledged-delivery sessions the server keeps for clients
    /// whose link is down, to give back to their next link
    /// (bounded by ``DeliveryConfiguration/maximumSessions`` and ``DeliveryConfiguration/sessionLifetime``).
    public var storedDeliverySessions: Int { deliverySessions.storedCount }

    /// The connections whose link is up, in the order they were accepted.
    public var connections: [Connection] {
        state.withLockedValue { $0.connections.values.filter(\.isConnected) }.sorted { $0.number < $1.number }
    }

    /// Waits until the server listens and returns its address (with the real port when 0 was asked).
    /// - Returns: the bound address.
    /// - Throws: ``MessagingError/invalidPort(_:allowed:)`` or
    ///   ``MessagingError/listenFailed(host:port:reason:)`` when binding failed.
    public func localAddress() async throws(MessagingError) -> SocketAddress {
        do {
            return try await bound.futureResult.get()[0]
        } catch let error as MessagingError {
            throw error
        } catch {
            throw .listenFailed(host: host, port: port, reason: LogFormat.error(error))
        }
    }

    /// Waits until the server listens and returns the address of each of its
    /// ``listeners``, in order (with the real port when 0 was asked).
    /// - Returns: the bound addresses.
    /// - Throws: as ``localAddress()``.
    public func localAddresses() async throws(MessagingError) -> [SocketAddress] {
        do {
            return try await bound.futureResult.get()
        } catch let error as MessagingError {
            throw error
        } catch {
            throw .listenFailed(host: host, port: port, reason: LogFormat.error(error))
        }
    }

    /// Waits until at least `count` connections are up.
    /// - Parameters:
    ///   - count: how many.
    ///   - timeout: how long to wait.
    /// - Returns: the connections.
    /// - Throws: ``MessagingError/waitTimedOut(what:wanted:present:timeout:)`` on timeout.
    @discardableResult
    public func waitForConnections(_ count: Int, timeout: Duration = .seconds(10)) async throws(MessagingError) -> [Connection] {
        let held = await waiters.wait(timeout: timeout) { [weak self] in (self?.connections.count ?? 0) >= count }
        let current = connections
        guard held || current.count >= count else {
            throw .waitTimedOut(what: "connections up", wanted: count, present: current.count, timeout: timeout)
        }
        return current
    }

    /// A stream of link events from now on (each call gets its own stream).
    /// - Returns: the events; the stream ends when ``run()`` returns.
    public func events() -> AsyncStream<Event> {
        subscribers.subscribe()
    }

    /// Binds and serves until cancelled or shut down, then closes all connections.
    ///
    /// This is also the server's `Service` conformance: in a `ServiceGroup`,
    /// a graceful shutdown acts as ``shutdown()``.
    /// - Throws: ``MessagingError/invalidPort(_:allowed:)`` for a port outside
    ///   `0...65535`; ``MessagingError/listenFailed(host:port:reason:)`` when binding fails.
    public func run() async throws {
        try await run(hooks: nil)
    }

    /// ``run()``, with what a role adds to each link.
    func run(hooks: LinkHooks?) async throws {
        defer {
            subscribers.finish()
            refusalSubscribers.finish()
            // The sessions of clients that did not come back end with the server.
            deliverySessions.removeAll()
        }
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await serve(hooks: hooks)
            } onCancel: {
                self.shutdown()
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    private func serve(hooks: LinkHooks?) async throws {
        let channels: [any Channel]
        do {
            channels = try await bindListeners(observer: linkObserver(hooks: hooks))
        } catch {
            boundSettled.withLockedValue { $0 = true }
            bound.fail(error)
            throw error
        }
        let channel = channels[0]
        let stop = state.withLockedValue { s -> Bool in
            s.channel = channel
            s.moreChannels = Array(channels.dropFirst())
            return s.shutdownRequested
        }
        boundSettled.withLockedValue { $0 = true }
        bound.succeed(channels.map { $0.localAddress! })
        for (listening, listener) in zip(channels, listeners) {
            logger.debug("listening", metadata: ["address": "\(listening.localAddress!)", "tls": "\(listener.tls != nil)"])
        }
        if stop { for listening in channels { listening.close(promise: nil) } }
        await withDiscardingTaskGroup { group in
            // The handler work of every connection runs in this group
            // (structured under run()); a link itself needs no task: its
            // coming up, opening and going down are event-loop callbacks.
            let serving = handlerTasks.start()
            group.addTask {
                try? await channel.closeFuture.get()
                for listening in channels.dropFirst() { try? await listening.close() }
                // Not accepting any more: every link is closed after its queue is
                // written; the group then waits for their handlers.
                await self.drain()
                await self.linksEnded()
                await self.loopsSettled()
                self.handlerTasks.finish()
            }
            guard serving else { return }
            while let work = await handlerTasks.next() {
                group.addTask { await work() }
            }
            // Cancelled: what is still queued runs in tasks of its own.
            for work in handlerTasks.stop() {
                Task { await work() }
            }
        }
        logger.debug("stopped")
    }

    /// Sets up an accepted link, on its event loop, before it is registered:
    /// its connection, whose handler tells `observer` when the link is up
    /// and when it is down. Its handler work runs in the server's task group
    /// (see ``serve(hooks:)``).
    /// - Parameters:
    ///   - configuration: the link's settings (the listener's: its TLS stage first, if any).
    ///   - tls: the listener's TLS, if any.
    func accept(_ child: any Channel, observer: LinkObserver, configuration: ConnectionConfiguration, tls: TLSOptions?) -> EventLoopFuture<Void> {
        let connection = Connection(
            eventLoop: child.eventLoop, registry: registry, configuration: configuration, logger: logger, handlerTasks: handlerTasks,
            delivery: .server(deliverySessions), timers: linkTimers, metrics: metrics?.links(.server)
        )
        let limit = maximumConnections
        let perAddressLimit = maximumConnectionsPerAddress
        let host = perAddressLimit == nil ? nil : child.remoteAddress?.ipAddress
        let refusal = state.withLockedValue { s -> LinkRefusal.Reason?? in
            if s.shutdownRequested { return .some(nil) }
            if let limit, s.connections.count >= limit { return .tooManyConnections }
            if let host, let perAddressLimit, !s.perAddress.add(host, number: connection.number, limit: perAddressLimit) {
                return .tooManyConnectionsFromAddress
            }
            s.connections[connection.number] = connection
            s.links[connection.number] = child
            return nil
        }
        if let refusal {
            if let refusal { refused(child.remoteAddress, reason: refusal) }
            // A failed initialiser closes the channel.
            return child.eventLoop.makeFailedFuture(MessagingError.closed)
        }
        return ConnectionHandler.install(on: child, connection: connection, observer: observer, tls: tls).flatMapErrorThrowing { error in
            self.state.withLockedValue { s in
                s.connections.removeValue(forKey: connection.number)
                s.links.removeValue(forKey: connection.number)
                s.perAddress.remove(number: connection.number)
            }
            self.waiters.changed()
            throw error
        }
    }

    /// What every accepted link tells the server: it is up, it is down.
    func linkObserver(hooks: LinkHooks?) -> LinkObserver {
        LinkObserver(
            up: { connection in self.linkUp(connection, hooks: hooks) },
            down: { connection, wasUp in self.linkDown(connection, up: wasUp, hooks: hooks) }
        )
    }

    /// A link is up: told, and the role's work done once its handshake opened it.
    private func linkUp(_ connection: Connection, hooks: LinkHooks?) {
        subscribers.publish(.connected(connection))
        waiters.changed()
        if let hooks {
            // The link's handshake decides: open, failed, or the link closed.
            connection.whenLinkOpens { opened in if opened { hooks.up(connection) } }
        }
    }

    /// A link is down (or closed before it came up: nothing to tell).
    private func linkDown(_ connection: Connection, up: Bool, hooks: LinkHooks?) {
        state.withLockedValue { s in
            s.connections.removeValue(forKey: connection.number)
            s.links.removeValue(forKey: connection.number)
            s.perAddress.remove(number: connection.number)
        }
        if let failure = connection.lastHandshakeFailure { handshakeRefused(connection, failure) }
        // A server-side connection ends with its link; the peer comes back as a new one.
        connection.startClose(pendingError: .connectionLost)
        if up {
            hooks?.down(connection)
            subscribers.publish(.disconnected(connection))
        }
        waiters.changed()
    }

    /// Waits until every link served is down.
    private func linksEnded() async {
        if await waiters.wait(until: { [weak self] in self?.state.withLockedValue { $0.links.isEmpty } ?? true }) { return }
        // Cancelled: the links' ends are still waited for.
        while let channel = state.withLockedValue({ $0.links.first?.value }) {
            try? await channel.closeFuture.get()
            // Its callback (``linkDown(_:up:hooks:)``) runs on the loop, at once or about now.
            await Task.yield()
        }
    }

    /// Waits for one turn of every event loop of the group: a closed channel's
    /// handlers (which reach the server) are removed in a turn after its close,
    /// so that once ``run()`` returns, no loop still holds the server.
    private func loopsSettled() async {
        for loop in group.makeIterator() {
            try? await loop.submit {}.get()
        }
    }

    /// Closes every connection (after writing what was queued for it).
    private func drain() async {
        let open = state.withLockedValue { Array($0.connections.values) }
        await withDiscardingTaskGroup { group in
            for connection in open { group.addTask { await connection.close() } }
        }
    }

    /// Stops ``run()``: no new connections; open ones are closed gracefully.
    public func shutdown() {
        let channels = state.withLockedValue { s -> [any Channel] in
            s.shutdownRequested = true
            return (s.channel.map { [$0] } ?? []) + s.moreChannels
        }
        for channel in channels { channel.close(promise: nil) }
    }
}

/// Runs in a `ServiceGroup`; a graceful shutdown stops it as ``MessagingServer/shutdown()`` does.
extension MessagingServer: Service {}
