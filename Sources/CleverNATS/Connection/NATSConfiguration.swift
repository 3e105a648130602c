import NIOSSL

/// How a ``NATSClient`` connects, authenticates, keeps its connection alive and reconnects.
public struct NATSConfiguration: Sendable {
    /// The servers to try, in order; the cluster's other servers (from `INFO`'s
    /// `connect_urls`) join the list when ``discoverServers`` is on.
    public var servers: [NATSServerAddress]
    /// The client's name in `CONNECT` (shown by the server's monitoring).
    public var name: String?
    /// The credentials; a server URL's own user/password or token is used when this is ``NATSAuthentication/none``.
    public var authentication: NATSAuthentication
    /// TLS for servers that require it or are named `tls://`; nil uses a default client
    /// configuration (system trust roots) when a server asks for TLS.
    public var tls: TLSConfiguration?
    /// Whether to add the servers the cluster advertises to ``servers``. Default on.
    public var discoverServers: Bool
    /// How long one TCP connect may take. Default 5 s.
    public var connectTimeout: Duration
    /// How often the client pings the server while connected. Default 2 minutes.
    public var pingInterval: Duration
    /// How many pings may go unanswered before the connection counts as stale and is dropped. Default 2.
    public var maximumPingsOutstanding: Int
    /// The wait before the first reconnect attempt; it doubles with each failed attempt. Default 250 ms.
    public var reconnectDelay: Duration
    /// The longest wait between reconnect attempts. Default 4 s.
    public var maximumReconnectDelay: Duration
    /// How many failed reconnect attempts end the client (then it is closed); nil tries forever. Default 60.
    public var maximumReconnectAttempts: Int?
    /// The most bytes of publishes kept while reconnecting; a publish beyond it
    /// throws ``NATSError/reconnectBufferFull(buffered:limit:)``. 0 turns buffering off. Default 8 MiB.
    public var reconnectBufferBytes: Int
    /// The most bytes written to the connection that the server has not read yet;
    /// a publish beyond it throws ``NATSError/outboundBufferFull(limit:)``. Default 8 MiB.
    public var maximumPendingWriteBytes: Int
    /// The most messages a subscription keeps for its consumer; one more ends
    /// it with ``NATSError/slowConsumer(subject:limit:)``. Default 65,536.
    public var subscriptionBufferLimit: Int
    /// The parser's limits (line length, payload size before the server's `INFO`).
    public var parserLimits: NATSParserLimits

    /// A configuration for `servers` with the documented defaults.
    /// - Parameter servers: the servers to try, in order.
    public init(servers: [NATSServerAddress]) {
        self.servers = servers
        self.name = nil
        self.authentication = .none
        self.tls = nil
        self.discoverServers = true
        self.connectTimeout = .seconds(5)
        self.pingInterval = .seconds(120)
        self.maximumPingsOutstanding = 2
        self.reconnectDelay = .milliseconds(250)
        self.maximumReconnectDelay = .seconds(4)
        self.maximumReconnectAttempts = 60
        self.reconnectBufferBytes = 8 * 1024 * 1024
        self.maximumPendingWriteBytes = 8 * 1024 * 1024
        self.subscriptionBufferLimit = 65_536
        self.parserLimits = NATSParserLimits()
    }

    /// A configuration for server URLs such as `nats://127.0.0.1:4222`, with the documented defaults.
    /// - Parameter urls: the servers' URLs, in order.
    /// - Throws: ``NATSError/invalidAddress(_:)`` for a URL that cannot be read.
    public init(urls: [String]) throws(NATSError) {
        var servers: [NATSServerAddress] = []
        for url in urls { servers.append(try NATSServerAddress(parsing: url)) }
        self.init(servers: servers)
    }
}
