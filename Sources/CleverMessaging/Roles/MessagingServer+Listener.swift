import NIOCore
import NIOPosix

extension MessagingServer {
    /// One address a ``MessagingServer`` accepts links on, plain or TLS.
    ///
    /// A server listens on its `host:port` and on any additional listeners at
    /// once, so that one ``GroundStation`` can take reference drones on a
    /// plain port and drones of this library on a TLS one; every link is
    /// served alike once its handshake passed.
    public struct Listener: Sendable, Hashable {
        /// The address to listen on.
        public var host: String
        /// The port; 0 picks a free one (see ``MessagingServer/localAddresses()``).
        public var port: Int
        /// Server TLS options for the links accepted here; `nil`: plain.
        public var tls: TLSOptions?

        /// A listener.
        /// - Parameters:
        ///   - host: the address to listen on (default 127.0.0.1).
        ///   - port: the port (0: any free one).
        ///   - tls: server TLS options (default `nil`: plain).
        public init(host: String = "127.0.0.1", port: Int, tls: TLSOptions? = nil) {
            self.host = host
            self.port = port
            self.tls = tls
        }
    }

    /// Binds every listener, in order; when one fails, the ones bound are closed.
    /// - Returns: their channels, in the order of ``listeners``.
    /// - Throws: ``MessagingError/invalidPort(_:allowed:)``, ``MessagingError/listenFailed(host:port:reason:)``.
    func bindListeners(observer: LinkObserver) async throws(MessagingError) -> [any Channel] {
        var channels: [any Channel] = []
        do {
            for listener in listeners {
                channels.append(try await bind(listener, observer: observer))
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        return channels
    }

    /// Binds one listener.
    private func bind(_ listener: Listener, observer: LinkObserver) async throws(MessagingError) -> any Channel {
        try PortRange.check(listener.port, in: PortRange.listening)
        if let tls = listener.tls, tls.role != .server {
            throw .invalidTLSConfiguration(file: nil, reason: "a listener needs server TLS options, not client ones")
        }
        let tls = listener.tls
        let configuration = tls?.securing(self.configuration) ?? self.configuration
        do {
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 4096)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                // A swarm connecting at once is taken in as fast as the kernel hands it over.
                .serverChannelOption(.maxMessagesPerRead, value: 64)
                .childChannelOption(.maxMessagesPerRead, value: SocketOptions.readsPerCycle)
                // Each link is set up on its own event loop as it is accepted: no
                // task, future chain or thread hop per link.
                .childChannelInitializer { [self] child in
                    self.accept(child, observer: observer, configuration: configuration, tls: tls)
                }
                .bind(host: listener.host, port: listener.port)
                .get()
        } catch {
            throw .listenFailed(host: listener.host, port: listener.port, reason: LogFormat.error(error))
        }
    }
}
