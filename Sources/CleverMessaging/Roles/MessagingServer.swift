import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OrderedCollections
import ServiceLifecycle

/// A server that accepts many peers (the ground-station side of the link).
///
/// ``run()`` binds, accepts connections on a multi-threaded event loop group
/// (each on its own loop), and serves until the calling task is cancelled or
/// ``shutdown()`` is called; it then closes every connection after writing
/// what was queued for it.
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
    /// The logger.
    public let logger: Logger

    /// Called when a connection's link is up, and when it went down.
    public typealias ConnectionHook = @Sendable (Connection) -> Void

    private let group: any EventLoopGroup
    private let bound: EventLoopPromise<SocketAddress>
    /// Whether `bound` was completed (completing it again after the event
    /// loops shut down would make NIO complain).
    private let boundSettled = NIOLockedValueBox(false)
    private let onConnect: ConnectionHook?
    private let onDisconnect: ConnectionHook?
    private let state = NIOLockedValueBox(ServerState())

    private struct ServerState {
        /// By ``Connection/number``, which grows with each accept. A plain dictionary:
        /// removing from an ordered one is linear, and thousands of drones may drop at once.
        var connections: [Int: Connection] = [:]
        var channel: (any Channel)?
        var shutdownRequested = false
    }

    /// Creates a server; nothing happens until ``run()``.
    /// - Parameters:
    ///   - host: the address to listen on.
    ///   - port: the port (0 for any free port).
    ///   - registry: handlers shared by all connections.
    ///   - configuration: settings for every connection.
    ///   - group: the event loops (default: NIO's shared multi-threaded group).
    ///   - logger: where to log.
    ///   - onConnect: called when a new connection's link is up.
    ///   - onDisconnect: called when a connection's link went down (it is then closed).
    ///   - maximumConnections: the most connections served at once (default: no limit).
    public init(
        host: String = "127.0.0.1",
        port: Int = 25000,
        registry: HandlerRegistry,
        configuration: ConnectionConfiguration = .init(),
        maximumConnections: Int? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "clever.server"),
        onConnect: ConnectionHook? = nil,
        onDisconnect: ConnectionHook? = nil
    ) {
        self.onConnect = onConnect
        self.onDisconnect = onDisconnect
        self.host = host
        self.port = port
        self.registry = registry
        self.configuration = configuration
        self.maximumConnections = maximumConnections
        self.group = group
        self.logger = logger
        self.bound = group.any().makePromise()
    }

    deinit {
        if !boundSettled.withLockedValue({ $0 }) { bound.fail(ConnectionError.closed) }
    }

    /// The connections whose link is up, in the order they were accepted.
    public var connections: [Connection] {
        state.withLockedValue { $0.connections.values.filter(\.isConnected) }.sorted { $0.number < $1.number }
    }

    /// Waits until the server listens and returns its address (with the real port when 0 was asked).
    /// - Returns: the bound address.
    /// - Throws: when binding failed or the server is gone.
    public func localAddress() async throws -> SocketAddress {
        try await bound.futureResult.get()
    }

    /// Waits until at least `count` connections are up.
    /// - Parameters:
    ///   - count: how many.
    ///   - timeout: how long to wait.
    /// - Returns: the connections.
    /// - Throws: ``ConnectionError/notConnected`` on timeout.
    public func waitForConnections(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [Connection] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let current = connections
            if current.count >= count { return current }
            if clock.now >= deadline { throw ConnectionError.notConnected }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Binds and serves until cancelled or shut down, then closes all connections.
    ///
    /// This is also the server's `Service` conformance: in a `ServiceGroup`,
    /// a graceful shutdown acts as ``shutdown()``.
    /// - Throws: when binding fails.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await serve()
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    private func serve() async throws {
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 4096)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { [self] child in self.accept(child) }
                .bind(host: host, port: port)
                .get()
        } catch {
            boundSettled.withLockedValue { $0 = true }
            bound.fail(error)
            throw error
        }
        let stop = state.withLockedValue { s -> Bool in
            s.channel = channel
            return s.shutdownRequested
        }
        boundSettled.withLockedValue { $0 = true }
        bound.succeed(channel.localAddress!)
        logger.info("listening", metadata: ["address": "\(channel.localAddress!)"])
        if stop { channel.close(promise: nil) }
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        let open = state.withLockedValue { Array($0.connections.values) }
        await withTaskGroup(of: Void.self) { group in
            for connection in open { group.addTask { await connection.close() } }
        }
        logger.info("stopped")
    }

    /// Stops ``run()``: no new connections; open ones are closed gracefully.
    public func shutdown() {
        let channel = state.withLockedValue { s -> (any Channel)? in
            s.shutdownRequested = true
            return s.channel
        }
        channel?.close(promise: nil)
    }

    private func accept(_ child: any Channel) -> EventLoopFuture<Void> {
        let connection = Connection(eventLoop: child.eventLoop, registry: registry, configuration: configuration, logger: logger)
        let limit = maximumConnections
        let accepted = state.withLockedValue { s -> Bool in
            if let limit, s.connections.count >= limit { return false }
            s.connections[connection.number] = connection
            return true
        }
        guard accepted else {
            logger.warning("connection refused: \(limit ?? 0) connections already", metadata: ["peer": "\(child.remoteAddress.map { "\($0)" } ?? "?")"])
            // A failed initializer makes NIO close the new channel.
            return child.eventLoop.makeFailedFuture(ConnectionRefused(limit: limit ?? 0))
        }
        child.closeFuture.whenComplete { [self] _ in
            _ = state.withLockedValue { $0.connections.removeValue(forKey: connection.number) }
            // A server-side connection ends with its link; the peer comes back as a new one.
            connection.startClose(pendingError: .connectionLost)
            onDisconnect?(connection)
        }
        let onConnect = self.onConnect
        return ConnectionHandler.install(on: child, connection: connection).map {
            if let onConnect {
                // The link attaches when the channel becomes active, right after this initializer.
                child.eventLoop.execute { onConnect(connection) }
            }
        }
    }

    /// How many connections one flush task of a broadcast covers.
    static let flushChunk = 256

    /// Sends one action to every connected peer, encoding it once.
    /// - Parameters:
    ///   - action: the action name.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    /// - Returns: one result per connected peer, in the order they were accepted:
    ///   a receipt, or why it could not be queued.
    /// - Throws: ``ConnectionError/encoding(_:)`` when the frame cannot be encoded.
    @discardableResult
    public func broadcast(
        _ action: String,
        args: [JSONValue] = [],
        kwargs: JSONObject = [:]
    ) throws(ConnectionError) -> [(connection: Connection, result: Result<SendReceipt, ConnectionError>)] {
        var bytes = ByteBuffer()
        var writer = FrameWriter()
        do throws(FrameEncodingError) {
            try writer.write(.action(action, args: args, kwargs: kwargs), into: &bytes)
        } catch {
            throw .encoding(error)
        }
        // One flush task per event loop and per chunk of its connections: far fewer
        // tasks (and cross-thread wake-ups) than one per connection, and the loops
        // start writing while the rest is still being queued.
        var toFlush: [ObjectIdentifier: (loop: any EventLoop, connections: [Connection])] = [:]
        func flush(_ loop: any EventLoop, _ connections: [Connection]) {
            loop.execute {
                for connection in connections { connection.flushOutbound() }
            }
        }
        // The table as it is, unsorted: the frames go out first, the results are ordered after.
        let snapshot = state.withLockedValue { Array($0.connections.values) }
        var results: [(connection: Connection, result: Result<SendReceipt, ConnectionError>)] = []
        results.reserveCapacity(snapshot.count)
        for connection in snapshot {
            let result = Result { () throws(ConnectionError) in try connection.enqueueEncodedDeferringFlush(bytes) }
            // A link that is down (and keeps no queue) is not a connected peer: it is left out, as ``connections`` leaves it out.
            if case .failure(.notConnected) = result { continue }
            if case .success((_, true)) = result {
                let key = ObjectIdentifier(connection.eventLoop)
                toFlush[key, default: (connection.eventLoop, [])].connections.append(connection)
                if let batch = toFlush[key], batch.connections.count >= Self.flushChunk {
                    toFlush[key] = nil
                    flush(batch.loop, batch.connections)
                }
            }
            results.append((connection, result.map(\.receipt)))
        }
        for (loop, connections) in toFlush.values { flush(loop, connections) }
        // Sorted through indices: comparing the results themselves would copy (and retain) them at every step.
        let numbers = results.map(\.connection.number)
        return numbers.indices.sorted { numbers[$0] < numbers[$1] }.map { results[$0] }
    }
}

/// Runs in a `ServiceGroup`; a graceful shutdown stops it as ``MessagingServer/shutdown()`` does.
extension MessagingServer: Service {}

/// Why a server closed a connection as soon as it was accepted (logged, never thrown to callers).
struct ConnectionRefused: Error {
    /// The server's ``MessagingServer/maximumConnections``.
    let limit: Int
}
