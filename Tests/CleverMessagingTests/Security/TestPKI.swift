import CleverBench
import CleverMessaging

/// Certificates made in-process for the TLS tests (swift-certificates, P-256):
/// a CA, a server certificate for 127.0.0.1 it signed, and an unrelated CA.
struct TestPKI {
    let ca: ThrowawayCertificates
    let other: ThrowawayCertificates
    let server: ThrowawayCertificates.Issued

    init() throws {
        ca = try ThrowawayCertificates(name: "test CA")
        other = try ThrowawayCertificates(name: "unrelated CA")
        server = try ca.server()
    }

    /// The station's options: its certificate, and with `clientCA` mutual TLS.
    func serverTLS(clientCA: ThrowawayCertificates? = nil, idFromCommonName: Bool = false) throws -> TLSOptions {
        try TLSOptions.server(
            certificateChainPEM: server.certificatePEM, privateKeyPEM: server.privateKeyPEM,
            clientCAPEM: clientCA?.caPEM, idFromCommonName: idFromCommonName
        )
    }

    /// A drone's options: trusting the test CA, with a client certificate when `certificate` is set.
    func clientTLS(certificate: ThrowawayCertificates.Issued? = nil, serverHostname: String? = nil) throws -> TLSOptions {
        try TLSOptions.client(
            trustedCAPEM: ca.caPEM, certificateChainPEM: certificate?.certificatePEM, privateKeyPEM: certificate?.privateKeyPEM,
            serverHostname: serverHostname
        )
    }
}

extension LogMessages {
    /// Waits until a message that begins with `prefix` (and contains `text`) was logged.
    /// - Returns: the first such message, or `nil` when none came within `timeout`.
    func first(startingWith prefix: String, containing text: String = "", timeout: Duration = .seconds(10)) async -> String? {
        let matches: @Sendable (String) -> Bool = { $0.hasPrefix(prefix) && (text.isEmpty || $0.contains(text)) }
        _ = await messages.wait(timeout: timeout) { $0.contains(where: matches) }
        return messages.value.first(where: matches)
    }
}
