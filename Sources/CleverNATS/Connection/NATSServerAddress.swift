import Foundation

/// One NATS server to connect to: host, port, whether it wants TLS, and credentials from its URL.
public struct NATSServerAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The host name or IP address.
    public var host: String
    /// The TCP port (4222 unless the URL names another).
    public var port: Int
    /// Whether the URL's scheme was `tls://` (TLS even when the server does not require it).
    public var tls: Bool
    /// The user name or token from the URL (`nats://user:pass@host` or `nats://token@host`).
    public var user: String?
    /// The password from the URL.
    public var password: String?

    /// An address from its parts.
    /// - Parameters:
    ///   - host: the host.
    ///   - port: the port.
    ///   - tls: whether to use TLS.
    public init(host: String, port: Int = 4222, tls: Bool = false) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// An address read from a URL such as `nats://127.0.0.1:4222`, `tls://user:pw@host`, or `host:port`.
    /// - Parameter url: the URL.
    /// - Throws: ``NATSError/invalidAddress(_:)`` when the scheme, host or port cannot be read.
    public init(parsing url: String) throws(NATSError) {
        var rest = Substring(url.trimmingCharacters(in: .whitespaces))
        var tls = false
        if let schemeEnd = rest.range(of: "://") {
            switch rest[..<schemeEnd.lowerBound].lowercased() {
            case "nats": break
            case "tls": tls = true
            default: throw .invalidAddress(url)
            }
            rest = rest[schemeEnd.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            if let colon = credentials.firstIndex(of: ":") {
                user = String(credentials[..<colon])
                password = String(credentials[credentials.index(after: colon)...])
            } else {
                user = String(credentials)
            }
            rest = rest[rest.index(after: at)...]
        }
        var host = rest
        var port = 4222
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidAddress(url) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()) else { throw .invalidAddress(url) }
                port = value
            } else if !after.isEmpty {
                throw .invalidAddress(url)
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let value = Int(rest[rest.index(after: colon)...]) else { throw .invalidAddress(url) }
            port = value
        }
        guard !host.isEmpty, (1...65535).contains(port) else { throw .invalidAddress(url) }
        self.init(host: String(host), port: port, tls: tls)
        self.user = user
        self.password = password
    }

    /// The address as `nats://host:port` (credentials left out).
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "tls" : "nats")://\(shownHost):\(port)"
    }

    /// Whether two addresses name the same server (host and port).
    func sameServer(as other: NATSServerAddress) -> Bool {
        host == other.host && port == other.port
    }
}
