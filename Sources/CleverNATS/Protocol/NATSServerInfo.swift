/// What a NATS server says about itself in its `INFO` line.
///
/// Fields the server leaves out take their documented default.
public struct NATSServerInfo: Sendable, Hashable, Codable {
    /// The server's unique id.
    public var serverID: String
    /// The server's name, when it has one.
    public var serverName: String?
    /// The server's version, such as `"2.9.10"`.
    public var version: String?
    /// The largest payload the server accepts, in bytes (headers included).
    public var maxPayload: Int
    /// Whether the server supports headers (`HPUB`/`HMSG`).
    public var headers: Bool
    /// Whether the server insists on TLS.
    public var tlsRequired: Bool
    /// Whether the server asks for credentials.
    public var authRequired: Bool
    /// Client URLs (`host:port`) of the other servers of its cluster.
    public var connectURLs: [String]

    /// Info made from its parts.
    /// - Parameters:
    ///   - serverID: the server's id.
    ///   - maxPayload: the largest payload the server accepts.
    ///   - connectURLs: the cluster's other client URLs.
    public init(serverID: String, maxPayload: Int = 1_048_576, connectURLs: [String] = []) {
        self.serverID = serverID
        self.maxPayload = maxPayload
        self.headers = true
        self.tlsRequired = false
        self.authRequired = false
        self.connectURLs = connectURLs
    }

    private enum CodingKeys: String, CodingKey {
        case serverID = "server_id"
        case serverName = "server_name"
        case version
        case maxPayload = "max_payload"
        case headers
        case tlsRequired = "tls_required"
        case authRequired = "auth_required"
        case connectURLs = "connect_urls"
    }

    /// Info read from the `INFO` JSON.
    /// - Parameter decoder: the decoder.
    /// - Throws: a `DecodingError` when a field has the wrong type.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        serverID = try container.decodeIfPresent(String.self, forKey: .serverID) ?? ""
        serverName = try container.decodeIfPresent(String.self, forKey: .serverName)
        version = try container.decodeIfPresent(String.self, forKey: .version)
        maxPayload = try container.decodeIfPresent(Int.self, forKey: .maxPayload) ?? 1_048_576
        headers = try container.decodeIfPresent(Bool.self, forKey: .headers) ?? false
        tlsRequired = try container.decodeIfPresent(Bool.self, forKey: .tlsRequired) ?? false
        authRequired = try container.decodeIfPresent(Bool.self, forKey: .authRequired) ?? false
        connectURLs = try container.decodeIfPresent([String].self, forKey: .connectURLs) ?? []
    }
}
