import ArgumentParser
import CoreMetrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// `serve --metrics HOST:PORT`: the process's metrics in Prometheus text
/// format at `http://HOST:PORT/metrics`, from a small HTTP/1.1 server
/// (``MetricsHTTPHandler``) that runs until ``shutdown()``.
final class MetricsEndpoint: Sendable {
    /// Where the metrics are collected (the process's `MetricsSystem` publishes here).
    let registry: PrometheusCollectorRegistry
    private let host: String
    private let port: Int
    private let group: any EventLoopGroup
    /// The listening channel, once bound; closed by ``shutdown()``.
    private let listener: EventLoopPromise<any Channel>

    /// An endpoint for `registry`, to listen on `host:port` (0: any free port).
    init(registry: PrometheusCollectorRegistry, host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.registry = registry
        self.host = host
        self.port = port
        self.group = group
        self.listener = group.any().makePromise()
    }

    /// The port of `--metrics HOST` without one.
    static let defaultPort = 9464

    /// Parses `--metrics`'s `HOST[:PORT]` (port 0: any free port, printed once bound).
    static func parseAddress(_ text: String) throws -> (host: String, port: Int) {
        let (host, port) = text.hasSuffix(":0")
            ? (try parseHostPort(String(text.dropLast(2)), defaultPort: 0).0, 0)
            : try parseHostPort(text, defaultPort: defaultPort)
        guard !host.isEmpty else { throw ValidationError("--metrics needs a host to listen on, such as 127.0.0.1:\(defaultPort), got \(text)") }
        return (host, port)
    }

    /// Makes a registry the process's metrics backend (`MetricsSystem.bootstrap`,
    /// which may happen once per process) and returns it.
    static func bootstrapRegistry() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Sets up a `/metrics` link's pipeline: the size and time limit, NIO's
    /// HTTP/1.1 server handlers (malformed requests get 400 and are closed),
    /// then ``MetricsHTTPHandler``.
    static func configure(_ channel: any Channel, render: @escaping @Sendable () -> [UInt8]) throws {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(RequestSizeLimit())
        try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
        try pipeline.addHandler(MetricsHTTPHandler(render: render))
    }

    /// The host as it goes in a URL (an IPv6 address in brackets).
    var displayHost: String { host.contains(":") ? "[\(host)]" : host }

    /// Binds, then serves until ``shutdown()`` (or the task is cancelled).
    /// - Parameter bound: called with the bound port once listening.
    func run(bound: @Sendable (Int) -> Void = { _ in }) async throws {
        let registry = self.registry
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 16)
                .childChannelInitializer { child in
                    child.eventLoop.makeCompletedFuture {
                        try Self.configure(child) { registry.emitToBuffer() }
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            listener.fail(error)
            throw error
        }
        listener.succeed(channel)
        bound(channel.localAddress?.port ?? port)
        try await withTaskCancellationHandler {
            try await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Stops listening; ``run(bound:)`` returns.
    func shutdown() {
        listener.futureResult.whenSuccess { $0.close(promise: nil) }
    }
}
