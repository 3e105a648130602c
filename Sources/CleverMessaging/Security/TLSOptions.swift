import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// TLS for the links of a listener or a client: certificates, trust and the
/// checks made of the peer, ready to secure any number of links.
///
/// TLS is opt-in: a ``MessagingServer`` listener or a ``MessagingClient``
/// without options speaks the plain protocol, byte for byte the reference's.
/// With options, the link's first step is a TLS handshake (NIOSSL sits first
/// in its pipeline) and its first handshake stage (``TLSStage``) waits for it:
/// nothing is dispatched or written before TLS completes, and a TLS failure
/// closes the link with ``MessagingError/handshakeFailed(_:)`` of reason
/// ``HandshakeFailure/Reason/tlsFailed``.
///
/// Make options with ``server(certificateChainPEM:privateKeyPEM:clientCAPEM:idFromCommonName:)``
/// or ``client(trustedCAPEM:certificateChainPEM:privateKeyPEM:serverHostname:verifyHostname:)``,
/// or their `fromPEMFiles` forms. The certificates are parsed and the TLS
/// context is built once, there: a swarm of thousands of links shares it.
/// See <doc:SecuringAShow>.
public struct TLSOptions: Sendable, Hashable, CustomStringConvertible {
    /// Which side of the TLS handshake the options are for.
    public enum Role: Sendable, Hashable {
        /// A listener: it presents its certificate chain.
        case server
        /// A client: it checks the server's chain against its trusted CA.
        case client
    }

    /// Which side these options are for.
    public let role: Role
    /// Server: whether a client certificate signed by the client CA is required (mutual TLS).
    public let requiresClientCertificate: Bool
    /// Server: whether a ``GroundStation`` takes a drone's id from its client
    /// certificate's common name (CN): the drone's `id` answer must then equal
    /// its CN, or its link is refused (see <doc:SecuringAShow>).
    public let idFromCommonName: Bool
    /// Client: the name the server's certificate is checked against (and sent
    /// as SNI); `nil`: the host connected to (an IP address is sent as no SNI).
    /// A certificate whose IP SANs hold the address connected to passes the
    /// check whatever the name (NIOSSL's rule).
    public let serverHostname: String?
    /// Client: whether the server certificate's name (or IP SAN) is checked.
    /// The chain is checked against the trusted CA either way.
    public let verifyHostname: Bool
    /// The context every link's NIOSSL handler is made from.
    let context: NIOSSLContext
    /// Tells options apart: two are equal when they were made by the same call
    /// (a TLS context has no equality of its own).
    private let identity: Int

    /// The next ``identity``.
    private static let identities = NIOLockedValueBox(0)

    init(role: Role, context: NIOSSLContext, requiresClientCertificate: Bool = false, idFromCommonName: Bool = false, serverHostname: String? = nil, verifyHostname: Bool = true) {
        self.role = role
        self.context = context
        self.requiresClientCertificate = requiresClientCertificate
        self.idFromCommonName = idFromCommonName
        self.serverHostname = serverHostname
        self.verifyHostname = verifyHostname
        self.identity = Self.identities.withLockedValue { next in
            next += 1
            return next
        }
    }

    /// Equal when made by the same call.
    public static func == (a: TLSOptions, b: TLSOptions) -> Bool { a.identity == b.identity }

    /// Hashes the options' identity.
    /// - Parameter hasher: the hasher.
    public func hash(into hasher: inout Hasher) { hasher.combine(identity) }

    /// A one-line summary, such as `tls server, client certificate required`.
    public var description: String {
        switch role {
        case .server:
            var text = "tls server"
            if requiresClientCertificate { text += ", client certificate required" }
            if idFromCommonName { text += ", id from common name" }
            return text
        case .client:
            return "tls client" + (verifyHostname ? "" : ", no hostname verification")
        }
    }

    /// Options from a NIOSSL `TLSConfiguration` of your own, for what the PEM
    /// forms do not offer (other key formats, cipher suites, trust roots...).
    /// - Parameters:
    ///   - configuration: the configuration; a server's that verifies client
    ///     certificates makes ``requiresClientCertificate`` true.
    ///   - role: which side it is for.
    ///   - idFromCommonName: server: a ``GroundStation`` takes each drone's id
    ///     from its certificate's CN (needs client certificate verification).
    ///   - serverHostname: client: the name to check the server's certificate against.
    /// - Returns: the options.
    /// - Throws: ``MessagingError/invalidTLSConfiguration(file:reason:)`` when
    ///   NIOSSL refuses the configuration.
    public static func custom(
        _ configuration: TLSConfiguration, role: Role, idFromCommonName: Bool = false, serverHostname: String? = nil
    ) throws(MessagingError) -> TLSOptions {
        let verifies: Bool
        switch configuration.certificateVerification {
        case .none: verifies = false
        case .noHostnameVerification, .fullVerification: verifies = true
        }
        if idFromCommonName, role != .server || !verifies {
            throw .invalidTLSConfiguration(file: nil, reason: "taking the id from the certificate's common name needs a server that verifies client certificates")
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw .invalidTLSConfiguration(file: nil, reason: "NIOSSL refused the configuration: \(error)")
        }
        var checksName = false
        if case .fullVerification = configuration.certificateVerification { checksName = true }
        return TLSOptions(
            role: role, context: context, requiresClientCertificate: role == .server && verifies, idFromCommonName: idFromCommonName,
            serverHostname: serverHostname, verifyHostname: role == .client && checksName
        )
    }

    /// Options for a listener, from PEM text.
    /// - Parameters:
    ///   - certificateChainPEM: the server's certificate, then any intermediates, in PEM.
    ///   - privateKeyPEM: the server certificate's private key, in PEM.
    ///   - clientCAPEM: when given, every client must present a certificate
    ///     signed by one of these CA certificates (mutual TLS).
    ///   - idFromCommonName: a ``GroundStation`` takes each drone's id from its
    ///     certificate's CN (needs `clientCAPEM`).
    /// - Returns: the options.
    /// - Throws: ``MessagingError/invalidTLSConfiguration(file:reason:)`` when
    ///   a PEM cannot be parsed, or the key does not fit the certificate.
    public static func server(
        certificateChainPEM: String,
        privateKeyPEM: String,
        clientCAPEM: String? = nil,
        idFromCommonName: Bool = false
    ) throws(MessagingError) -> TLSOptions {
        try makeServer(
            chain: .text(certificateChainPEM), key: .text(privateKeyPEM), clientCA: clientCAPEM.map { .text($0) },
            idFromCommonName: idFromCommonName
        )
    }

    /// Options for a listener, from PEM files.
    /// - Parameters:
    ///   - certificateChainFile: the server's certificate, then any intermediates.
    ///   - privateKeyFile: the server certificate's private key.
    ///   - clientCAFile: when given, every client must present a certificate
    ///     signed by a CA of this file (mutual TLS).
    ///   - idFromCommonName: a ``GroundStation`` takes each drone's id from its
    ///     certificate's CN (needs `clientCAFile`).
    /// - Returns: the options.
    /// - Throws: ``MessagingError/invalidTLSConfiguration(file:reason:)`` naming
    ///   the file that is missing, unreadable or not valid PEM.
    public static func server(
        fromPEMFiles certificateChainFile: String,
        privateKeyFile: String,
        clientCAFile: String? = nil,
        idFromCommonName: Bool = false
    ) throws(MessagingError) -> TLSOptions {
        try makeServer(
            chain: .file(certificateChainFile), key: .file(privateKeyFile), clientCA: clientCAFile.map { .file($0) },
            idFromCommonName: idFromCommonName
        )
    }

    /// Options for a client, from PEM text.
    /// - Parameters:
    ///   - trustedCAPEM: the CA certificates the server's chain must lead to.
    ///   - certificateChainPEM: the client's own certificate (for mutual TLS), if any.
    ///   - privateKeyPEM: its private key (given with `certificateChainPEM`).
    ///   - serverHostname: the name to check the server's certificate against
    ///     (default: the host connected to; an IP address is checked against IP SANs).
    ///   - verifyHostname: `false` checks the chain but not the name (only when asked for).
    /// - Returns: the options.
    /// - Throws: ``MessagingError/invalidTLSConfiguration(file:reason:)``.
    public static func client(
        trustedCAPEM: String,
        certificateChainPEM: String? = nil,
        privateKeyPEM: String? = nil,
        serverHostname: String? = nil,
        verifyHostname: Bool = true
    ) throws(MessagingError) -> TLSOptions {
        try makeClient(
            trusted: .text(trustedCAPEM), chain: certificateChainPEM.map { .text($0) }, key: privateKeyPEM.map { .text($0) },
            serverHostname: serverHostname, verifyHostname: verifyHostname
        )
    }

    /// Options for a client, from PEM files.
    /// - Parameters:
    ///   - trustedCAFile: the CA certificates the server's chain must lead to.
    ///   - certificateChainFile: the client's own certificate (for mutual TLS), if any.
    ///   - privateKeyFile: its private key (given with `certificateChainFile`).
    ///   - serverHostname: the name to check the server's certificate against
    ///     (default: the host connected to; an IP address is checked against IP SANs).
    ///   - verifyHostname: `false` checks the chain but not the name (only when asked for).
    /// - Returns: the options.
    /// - Throws: ``MessagingError/invalidTLSConfiguration(file:reason:)`` naming
    ///   the file that is missing, unreadable or not valid PEM.
    public static func client(
        fromPEMFiles trustedCAFile: String,
        certificateChainFile: String? = nil,
        privateKeyFile: String? = nil,
        serverHostname: String? = nil,
        verifyHostname: Bool = true
    ) throws(MessagingError) -> TLSOptions {
        try makeClient(
            trusted: .file(trustedCAFile), chain: certificateChainFile.map { .file($0) }, key: privateKeyFile.map { .file($0) },
            serverHostname: serverHostname, verifyHostname: verifyHostname
        )
    }
}
