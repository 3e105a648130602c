import CleverBench
import CleverTestSupport
import Foundation
import NIOSSL
import Testing

@testable import CleverNATS

/// TLS against a real `nats-server --tls`: the server's INFO requires TLS and the client upgrades.
@Suite(.needsNATSServer) struct NATSTLSTests {
    @Test func tlsRequiredByTheServer() async throws {
        let authority = try ThrowawayCertificates(name: "nats test CA")
        let issued = try authority.server(commonName: "nats")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nats-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("server.pem")
        let key = directory.appendingPathComponent("server.key")
        try issued.certificatePEM.write(to: certificate, atomically: true, encoding: .utf8)
        try issued.privateKeyPEM.write(to: key, atomically: true, encoding: .utf8)
        let server = try await NATSServerProcess(extra: ["--tls", "--tlscert", certificate.path, "--tlskey", key.path])
        defer { server.stop() }

        var configuration = try NATSConfiguration(urls: [server.url])
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(authority.caPEM.utf8), format: .pem)])
        configuration.tls = tls
        let client = NATSClient(configuration: configuration)
        try await client.connect()
        let subscription = try await client.subscribe(to: "secure")
        try await client.publish("over TLS", to: "secure")
        var iterator = subscription.makeAsyncIterator()
        #expect(try await iterator.next()?.string == "over TLS")
        await client.close()

        // A client that does not trust the server's CA fails with a typed error.
        let untrusting = NATSClient(configuration: try NATSConfiguration(urls: [server.url]))
        await #expect(throws: NATSError.self) { try await untrusting.connect() }
    }
}
