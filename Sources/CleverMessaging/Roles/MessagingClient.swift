import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A client that keeps one ``Connection`` linked to a server (the drone side).
///
/// ``run()`` connects, and after a failure or a drop connects again following
/// the ``ReconnectPolicy``, always re-linking the **same** ``connection``, so
/// pending requests are resent and handlers stay registered. After a drop it
/// connects again at once, unless the link held for less than the policy's
/// first delay: it then waits out the rest of that delay first. Links the
/// server keeps closing (another drone with this one's id, or from its address,
/// displacing it) make it wait longer each time, doubling from the policy's
/// first delay up to its maximum, instead of displacing the other drone back in
/// a loop. It returns when
/// the calling task is cancelled or ``shutdown()`` is called, after closing the
/// connection gracefully.
public final class MessagingClient: Sendable {
    /// The connection that outlives every link.
    public let connection: Connection
    /// When to try again.
    public let reconnectPolicy: ReconnectPolicy
    /// The logger.
    public let logger: Logger
    /// Shared with other clients to bound their simultaneous connection attempts, if set.
    public let connectLimiter: ConnectLimiter?

    /// A change of the client's link.
    public enum Event: Sendable, Hashable {
        /// Attempt number `attempt` in a row to connect to `host:port` begins
        /// (1: the first since ``run()`` began or since the last link went down).
        case connecting(host: String, port: Int, attempt: Int)
        /// A link to `host:port` came up.
        case connected(host: String, port: Int)
        /// The link to `host:port` went down; the client connects again (unless it was stopped).
        case disconnected(host: String, port: Int)
        /// Attempt number `attempt` in a row to connect to `host:port` failed,
        /// for `reason` (plain words, such as `connection refused`). The next
        /// attempt follows after `retryIn`; `nil`: the client turns to discovery first.
        case connectFailed(host: String, port: Int, attempt: Int, reason: String, retryIn: Duration?)
    }

    private let target: NIOLockedValueBox<Target>
    private let subscribers = EventSubscribers<Event>()
    /// Woken by ``shutdown()``.
    let stopping = StateWaiters()

    /// Whether ``shutdown()`` was called.
    var isStopped: Bool { target.withLockedValue { $0.stopped } }

    private struct Target {
        var host: String
        var port: Int
        var channel: (any Channel)?
        /// Whether ``shutdown()`` was called.
        var stopped = false
        /// Links in a row the server refused (a token or version refusal): the delay before the next grows.
        var refusal: RefusalBackoff
        /// Links the server ended in a row: the delay before the next grows.
        var displacement: DisplacementBackoff
    }

    /// The local address links are made from (`nil`: the system's choice).
    public let localHost: String?
    /// TLS for every link (`nil`: the plain protocol, as the reference's).
    public let tls: TLSOptions?

    /// Creates a client; nothing happens until ``run()``.
    /// - Parameters:
    ///   - host: the server's address.
    ///   - port: the server's port (default 25000); ``run()`` throws when it is outside `1...65535`.
    ///   - registry: handlers for what the server sends.
    ///   - configuration: connection settings.
    ///   - reconnectPolicy: when to retry (default: the reference's).
    ///   - group: the event loops (default: NIO's shared group).
    ///   - connectLimiter: shared by clients that should not all connect at once (default: none).
    ///   - localHost: the local IP address to connect from, such as one interface's
    ///     (default: the system's choice); a connection attempt from an address
    ///     that is not a literal IP address fails, and is retried as any other.
    ///   - logger: where to log.
    ///   - timers: shared by clients that run by the thousand in one process,
    ///     so that their links' deadlines take one timer per event loop
    ///     (default: the client's own).
    ///   - tls: client ``TLSOptions`` to secure every link (default `nil`: plain);
    ///     its handshake then begins with ``TLSStage``.
    public init(
        host: String,
        port: Int = 25000,
        registry: HandlerRegistry,
        configuration: ConnectionConfiguration = .init(),
        reconnectPolicy: ReconnectPolicy = .reference,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        connectLimiter: ConnectLimiter? = nil,
        localHost: String? = nil,
        logger: Logger = Logger(label: "clever.client"),
        timers: LinkTimers? = nil,
        tls: TLSOptions? = nil
    ) {
        self.connectLimiter = connectLimiter
        self.localHost = localHost
        self.tls = tls
        self.connection = Connection(
            eventLoop: group.any(), registry: registry, configuration: tls?.securing(configuration) ?? configuration, logger: logger,
            delivery: .client(session: DeliverySession.makeID()), timers: timers,
            metrics: (configuration.metrics ?? CleverMetrics.bootstrapped())?.links(.client)
        )
        self.reconnectPolicy = reconnectPolicy
        self.logger = logger
        self.target = NIOLockedValueBox(Target(
            host: host, port: port, refusal: RefusalBackoff(policy: reconnectPolicy), displacement: DisplacementBackoff(policy: reconnectPolicy)
        ))
    }

    /// A stream of link events from now on (each call gets its own stream).
    /// - Returns: the events; the stream ends when ``run()`` returns.
    public func events() -> AsyncStream<Event> {
        subscribers.subscribe()
    }

    /// Calls `observer` with every link event from now on, until ``run()`` returns.
    ///
    /// The events of ``events()`` without a stream or a task to read it: for
    /// a program that watches thousands of clients (a simulated swarm).
    /// - Parameter observer: called on the client's task as each event happens,
    ///   in order; it must return quickly.
    public func observeEvents(_ observer: @escaping @Sendable (Event) -> Void) {
        subscribers.observe(observer)
    }

    /// The server address the next connection attempt uses.
    public var server: (host: String, port: Int) {
        target.withLockedValue { ($0.host, $0.port) }
    }

    /// Points the client at another server; the current link, if any, is dropped
    /// so the next attempt goes to the new address (used by discovery).
    /// - Parameters:
    ///   - host: the new address.
    ///   - port: the new port.
    public func rebind(host: String, port: Int) {
        // (A port out of range makes ``run()`` throw at its next attempt.)
        let channel = target.withLockedValue { t -> (any Channel)? in
            let changed = t.host != host || t.port != port
            t.host = host
            t.port = port
            return changed ? t.channel : nil
        }
        channel?.close(promise: nil)
    }

    /// Connects and keeps connected until cancelled or shut down.
    ///
    /// This is also the client's `Service` conformance: in a `ServiceGroup`,
    /// a graceful shutdown acts as ``shutdown()``.
    /// - Throws: ``MessagingError/invalidPort(_:allowed:)`` when the server's port
    ///   is outside `1...65535` (connection failures are retried, never thrown).
    public func run() async throws {
        try await run(onAttemptsExhausted: nil)
    }

    /// Connects and keeps connected until cancelled or shut down.
    /// - Parameter onAttemptsExhausted: called after
    ///   ``ReconnectPolicy/attemptsBeforeDiscovery`` failures in a row (discovery hooks here);
    ///   retrying goes on regardless.
    /// - Throws: ``MessagingError/invalidPort(_:allowed:)`` when the server's port
    ///   is outside `1...65535`.
    public func run(onAttemptsExhausted: (@Sendable (MessagingClient) async -> Void)?) async throws {
        defer { subscribers.finish() }
        try PortRange.check(server.port, in: PortRange.connectable)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                // The connection's handler work runs structured under this call, in
                // child tasks added by this task while it waits for each link's end
                // (no task of its own); the group ends once the connection is closed
                // (keepConnected closes it) and its handlers have ended.
                let handlerTasks = connection.handlerTasks
                let serving = handlerTasks.start()
                do {
                    try await keepConnected(onAttemptsExhausted: onAttemptsExhausted, serving: serving) { work in
                        group.addTask { await work() }
                    }
                } catch {
                    if serving { for work in handlerTasks.stop() { Task { await work() } } }
                    throw error
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
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// - Parameters:
    ///   - serving: whether the connection's handler work is taken while a link is up.
    ///   - add: runs one piece of handler work (in the task group of ``run()``).
    ///
    /// The loop itself keeps only a few words across its waits: each link and
    /// each failed attempt is handled in a function of its own (not inlined), so
    /// the client's task keeps no room for their locals while its link is up.
    /// A swarm runs thousands of clients, each task holding its deepest frames.
    private func keepConnected(
        onAttemptsExhausted: (@Sendable (MessagingClient) async -> Void)?,
        serving: Bool,
        add: (@escaping HandlerTaskQueue.Work) -> Void
    ) async throws {
        var failures = 0
        defer { target.withLockedValue { $0.channel = nil } }
        while !Task.isCancelled && !isStopped {
            let (host, port) = server
            do {
                try PortRange.check(port, in: PortRange.connectable)
            } catch {
                await connection.close()
                throw error
            }
            subscribers.publish(.connecting(host: host, port: port, attempt: failures + 1))
            let channel: any Channel
            do {
                channel = try await connect(host: host, port: port)
            } catch {
                failures += 1
                await attemptFailed(error, attempt: failures, host: host, port: port, onAttemptsExhausted: onAttemptsExhausted)
                continue
            }
            failures = 0
            guard await serve(channel, host: host, port: port, serving: serving, add: add) else { break }
        }
        await connection.close()
    }

    /// Keeps `channel` until it is down, taking the connection's handler work meanwhile
    /// (the loop is here, not in a function of its own: each async frame the
    /// waiting task holds costs memory in every client of a swarm).
    /// - Returns: whether to connect again (`false`: cancelled or shut down).
    @inline(never)
    private func serve(
        _ channel: any Channel, host: String, port: Int, serving: Bool,
        add: (@escaping HandlerTaskQueue.Work) -> Void
    ) async -> Bool {
        linkUp(channel, host: host, port: port)
        let linked = ContinuousClock.now
        await withTaskCancellationHandler {
            let handlerTasks = connection.handlerTasks
            if serving {
                let down = NIOLockedValueBox(false)
                channel.closeFuture.whenComplete { _ in
                    down.withLockedValue { $0 = true }
                    handlerTasks.wake()
                }
                // Handler work is taken until the link is down (or can be taken no more).
                while !down.withLockedValue({ $0 }) {
                    if let work = await handlerTasks.nextUntilWoken() {
                        add(work)
                    } else if !handlerTasks.takesMore {
                        break
                    }
                }
                handlerTasks.takeQueued(add)
            }
            try? await channel.closeFuture.get()
        } onCancel: {
            self.connection.startClose()
        }
        guard let spacing = linkDown(host: host, port: port, linked: linked) else { return false }
        if spacing > .zero { await pause(for: spacing) }
        return true
    }

    /// The link to `host:port` is up (out of line: not part of the frame kept while it is).
    @inline(never)
    private func linkUp(_ channel: any Channel, host: String, port: Int) {
        target.withLockedValue { $0.channel = channel }
        if isStopped { channel.close(promise: nil) }
        logger.debug("connected", metadata: ["server": "\(host):\(port)"])
        subscribers.publish(.connected(host: host, port: port))
    }

    /// The link to `host:port`, up since `linked`, is down.
    /// - Returns: how long to wait before the next attempt; `nil`: make none (cancelled or shut down).
    @inline(never)
    private func linkDown(host: String, port: Int, linked: ContinuousClock.Instant) -> Duration? {
        target.withLockedValue { $0.channel = nil }
        subscribers.publish(.disconnected(host: host, port: port))
        if Task.isCancelled || isStopped { return nil }
        if let backoff = refusalBackoff(host: host, port: port) { return backoff }
        // A link that held for less than the policy's first delay is not
        // followed at once: a server that closes links as soon as they
        // come up (full, or refusing a duplicate drone id) sees one attempt
        // per delay, not hundreds a second. Links the server ends one after
        // another (a displaced drone) wait longer each time.
        let end: DisplacementBackoff.LinkEnd = connection.lastDropReason == nil ? .byPeer : .byThisSide
        let lived = ContinuousClock.now - linked
        let draw = Double.random(in: -1...1)
        let (spacing, displacements) = target.withLockedValue { t in
            (t.displacement.linkEnded(end, lived: lived, draw: draw), t.displacement.displacements)
        }
        if displacements > 1 {
            logger.debug(
                "the server ended \(displacements) links in a row (another drone may displace this one); reconnecting in \(LogFormat.duration(spacing))",
                metadata: ["server": "\(host):\(port)"]
            )
            return spacing
        }
        if spacing > .zero {
            logger.debug(
                "link to server dropped soon after it came up; reconnecting in \(LogFormat.duration(spacing))",
                metadata: ["server": "\(host):\(port)"]
            )
            return spacing
        }
        logger.debug("link to server dropped; reconnecting", metadata: ["server": "\(host):\(port)"])
        return .zero
    }

    /// Attempt number `attempt` in a row failed: reports it, then waits as the policy says
    /// (or hands over to `onAttemptsExhausted`).
    @inline(never)
    private func attemptFailed(
        _ error: any Error, attempt failures: Int, host: String, port: Int,
        onAttemptsExhausted: (@Sendable (MessagingClient) async -> Void)?
    ) async {
        let handOver = reconnectPolicy.attemptsBeforeDiscovery > 0 && failures % reconnectPolicy.attemptsBeforeDiscovery == 0
        if handOver, let onAttemptsExhausted {
            reportFailure(error, attempt: failures, host: host, port: port, retryIn: nil)
            await onAttemptsExhausted(self)
            return
        }
        let delay = reconnectPolicy.delay(beforeAttempt: failures)
        reportFailure(error, attempt: failures, host: host, port: port, retryIn: delay)
        await pause(for: delay)
    }

    /// Logs and publishes a failed attempt (and when the next follows, if `retryIn` is set).
    @inline(never)
    private func reportFailure(_ error: any Error, attempt failures: Int, host: String, port: Int, retryIn delay: Duration?) {
        logger.debug("cannot connect (attempt \(failures)): \(LogFormat.error(error))", metadata: ["server": "\(host):\(port)"])
        subscribers.publish(.connectFailed(host: host, port: port, attempt: failures, reason: LogFormat.reason(error), retryIn: delay))
        if let delay {
            logger.trace("reconnecting in \(LogFormat.duration(delay))", metadata: ["server": "\(host):\(port)"])
        }
    }

    /// Waits `delay` between attempts, or less when ``shutdown()`` comes first.
    private func pause(for delay: Duration) async {
        _ = await stopping.wait(timeout: delay) { [weak self] in self?.isStopped ?? true }
    }

    /// Stops ``run()``: the connection is closed after its queue is written.
    public func shutdown() {
        target.withLockedValue { $0.stopped = true }
        connection.startClose()
        stopping.changed()
    }

    private func connect(host: String, port: Int) async throws -> any Channel {
        guard let connectLimiter else { return try await connectNow(host: host, port: port) }
        return try await connectLimiter.run { try await connectNow(host: host, port: port) }
    }

    private func connectNow(host: String, port: Int) async throws -> any Channel {
        let connection = self.connection
        let tls = self.tls
        var bootstrap = ClientBootstrap(group: connection.eventLoop)
            .connectTimeout(.seconds(5))
            // As the server's links: a file body arrives in bursts of up to 16 reads.
            .channelOption(.maxMessagesPerRead, value: SocketOptions.readsPerCycle)
            .channelInitializer { channel in ConnectionHandler.install(on: channel, connection: connection, observer: nil, tls: tls, host: host) }
        if let localHost {
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: localHost, port: 0))
        }
        if let address = try? SocketAddress(ipAddress: host, port: port) {
            // A literal address needs no resolver and no Happy Eyeballs race
            // (which costs a getaddrinfo call and three timers per attempt).
            return try await bootstrap.connect(to: address).get()
        }
        return try await bootstrap.connect(host: host, port: port).get()
    }
}

/// Runs in a `ServiceGroup`; a graceful shutdown stops it as ``MessagingClient/shutdown()`` does.
extension MessagingClient: Service {}

extension MessagingClient {
    /// The link just down was refused by the server (its handshake failed for a
    /// token or a version: ``Connection/lastHandshakeFailure``): the next attempt
    /// waits as ``RefusalBackoff`` says.
    /// - Returns: the delay, or `nil` when the link was not refused so.
    @inline(never)
    fileprivate func refusalBackoff(host: String, port: Int) -> Duration? {
        let refusedReasons: Set<HandshakeFailure.Reason> = [.authenticationFailed, .authenticationRequired, .incompatibleVersion]
        guard let failure = connection.lastHandshakeFailure, refusedReasons.contains(failure.reason) else {
            target.withLockedValue { $0.refusal.accepted() }
            return nil
        }
        let draw = Double.random(in: -1...1)
        let delay = target.withLockedValue { $0.refusal.refused(draw: draw) }
        logger.error(
            "the server refused this side (\(failure.reason)): \(failure.message); trying again in \(LogFormat.duration(delay))",
            metadata: ["server": "\(host):\(port)", "code": "\(failure.reason)"]
        )
        return delay
    }
}
