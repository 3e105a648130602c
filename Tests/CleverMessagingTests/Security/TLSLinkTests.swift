import CleverMessaging
import Logging
import NIOCore
import NIOSSL
import Testing

/// TLS between a server and a client of this library, over loopback, with
/// certificates made in-process: an exchange, and the failures each side names.
@Suite("Security: TLS links", .timeLimit(.minutes(1)))
struct TLSLinkTests {
    /// Both sides' links: a debug build's TLS handshake on a loaded machine can take longer than the
    /// default 2 s, and only the failure a test provokes may end a handshake here.
    static let configuration = ConnectionConfiguration(handshakeTimeout: .seconds(30))

    /// A TLS server (its `port`, and what it logs) until `body` returns.
    static func withServer(
        tls: TLSOptions?,
        registry: HandlerRegistry = makeTestRegistry(),
        additionalListeners: [MessagingServer.Listener] = [],
        _ body: (MessagingServer, LogMessages) async throws -> Void
    ) async throws {
        let log = LogMessages()
        let server = MessagingServer(
            host: "127.0.0.1", port: 0, registry: registry, configuration: configuration, logger: log.logger("server"), tls: tls,
            additionalListeners: additionalListeners
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            do {
                _ = try await server.localAddress()
                try await body(server, log)
            } catch {
                server.shutdown()
                throw error
            }
            server.shutdown()
            try await group.waitForAll()
        }
    }

    /// A client of `port` (plain without `tls`) that runs until `body` returns.
    static func withClient(port: Int, tls: TLSOptions?, _ body: (MessagingClient) async throws -> Void) async throws {
        let client = MessagingClient(
            host: "127.0.0.1", port: port, registry: makeTestRegistry(), configuration: configuration,
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50)), tls: tls
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            do {
                try await body(client)
            } catch {
                client.shutdown()
                throw error
            }
            client.shutdown()
            try await group.waitForAll()
        }
    }

    /// The reason of a handshake failure `body` throws, or `nil`.
    static func handshakeFailure(_ body: () async throws(MessagingError) -> Void) async -> HandshakeFailure? {
        do {
            try await body()
        } catch {
            if case .handshakeFailed(let failure) = error { return failure }
            Issue.record("not a handshake failure: \(error)")
        }
        return nil
    }

    @Test("a TLS client and server exchange an action and requests both ways; each side records the peer")
    func exchange() async throws {
        let pki = try TestPKI()
        let registry = makeTestRegistry()
        let recorder = ActionRecorder(recording: ["go"], on: registry)
        try await Self.withServer(tls: try pki.serverTLS(), registry: registry) { server, _ in
            let port = try await server.localAddress().port!
            try await Self.withClient(port: port, tls: try pki.clientTLS()) { client in
                try await client.connection.waitUntilConnected()
                _ = try await client.connection.send("go", args: [1, "two"])
                #expect(try await recorder.waitFor(count: 1).map(\.args) == [[1, "two"]])
                #expect(try await client.connection.request("echo", args: ["x"]) == ["args": ["x"], "kwargs": [:]])
                let serverSide = try await server.waitForConnections(1)[0]
                #expect(try await serverSide.request("id") == "swiftcopter")
                #expect(client.connection.handshakeResult(TLSPeer.self) == TLSPeer(commonName: "ground station", idFromCommonName: false))
                #expect(serverSide.handshakeResult(TLSPeer.self) == TLSPeer(commonName: nil, idFromCommonName: false))
            }
        }
    }

    @Test("a plain client on a TLS port: the server closes its link for tls_failed, says why, and stays up")
    func plainClientOnTLSPort() async throws {
        let pki = try TestPKI()
        try await Self.withServer(tls: try pki.serverTLS()) { server, log in
            let port = try await server.localAddress().port!
            try await Self.withClient(port: port, tls: nil) { plain in
                // The plain client's link opens on its side; its request's bytes are not TLS.
                let request = Task { try? await plain.connection.request("echo", timeout: .seconds(30)) }
                let line = await log.first(startingWith: "link closed: handshake stage \"tls\" failed (tls_failed)", containing: "the peer does not speak TLS")
                #expect(line != nil, "\(log.messages.value)")
                plain.shutdown()
                _ = await request.value
            }
            #expect(server.connections.isEmpty)
            // Still serving: a TLS client gets through.
            try await Self.withClient(port: port, tls: try pki.clientTLS()) { client in
                try await client.connection.waitUntilConnected()
                #expect(try await client.connection.request("id") == "swiftcopter")
            }
        }
    }

    @Test("a TLS client on a plain port: its link fails its handshake with tls_failed, naming a peer that does not speak TLS")
    func tlsClientOnPlainPort() async throws {
        let pki = try TestPKI()
        // A ground station writes its `id` request at once: the client's TLS reads plain bytes.
        let station = GroundStation(host: "127.0.0.1", port: 0, configuration: Self.configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try await station.server.localAddress().port!
            try await Self.withClient(port: port, tls: try pki.clientTLS()) { client in
                let failure = await Self.handshakeFailure { () throws(MessagingError) in try await client.connection.waitUntilConnected() }
                #expect(failure?.reason == .tlsFailed)
                #expect(failure?.stage == "tls")
                // Plain bytes where a TLS record belongs.
                #expect(failure?.message.hasPrefix("the peer does not speak TLS") == true, "\(String(describing: failure))")
                let reason = try #require(failure)
                #expect(MessagingError.handshakeFailed(reason).code == .handshakeFailed)
            }
            // The station is still up for plain drones.
            let drone = GroundStationTests.drone("plain-1", port: port)
            group.addTask { try await drone.run() }
            try await station.waitForDrones(1, timeout: .seconds(30))
            drone.shutdown()
            station.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("a server certificate that names neither the host asked for nor the address connected to fails the client's handshake")
    func wrongHostname() async throws {
        let pki = try TestPKI()
        let named = try pki.ca.server(ipAddresses: [], dnsNames: ["station.example"])
        let tls = try TLSOptions.server(certificateChainPEM: named.certificatePEM, privateKeyPEM: named.privateKeyPEM)
        try await Self.withServer(tls: tls) { server, _ in
            let port = try await server.localAddress().port!
            for name in ["elsewhere.example", nil] {
                try await Self.withClient(port: port, tls: try pki.clientTLS(serverHostname: name)) { client in
                    let failure = await Self.handshakeFailure { () throws(MessagingError) in try await client.connection.waitUntilConnected() }
                    #expect(failure?.reason == .tlsFailed)
                    #expect(failure?.message.hasPrefix("the server's certificate does not name the host") == true, "\(String(describing: failure))")
                }
            }
            try await Self.withClient(port: port, tls: try pki.clientTLS(serverHostname: "station.example")) { client in
                try await client.connection.waitUntilConnected()
            }
        }
    }

    @Test("a server certificate signed by another CA is not trusted")
    func untrustedServer() async throws {
        let pki = try TestPKI()
        let stranger = try pki.other.server()
        let tls = try TLSOptions.server(certificateChainPEM: stranger.certificatePEM, privateKeyPEM: stranger.privateKeyPEM)
        try await Self.withServer(tls: tls) { server, _ in
            let port = try await server.localAddress().port!
            try await Self.withClient(port: port, tls: try pki.clientTLS()) { client in
                let failure = await Self.handshakeFailure { () throws(MessagingError) in try await client.connection.waitUntilConnected() }
                #expect(failure?.reason == .tlsFailed)
                #expect(failure?.message.hasPrefix("the peer's certificate is not signed by a trusted CA") == true, "\(String(describing: failure))")
            }
        }
    }

    @Test("options from a NIOSSL configuration of one's own secure a link as the PEM forms do")
    func custom() async throws {
        let pki = try TestPKI()
        var server = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(pki.server.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(pki.server.privateKeyPEM.utf8), format: .pem))
        )
        server.minimumTLSVersion = .tlsv13
        var client = TLSConfiguration.makeClientConfiguration()
        client.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pki.ca.caPEM.utf8)))
        let serverTLS = try TLSOptions.custom(server, role: .server)
        let clientTLS = try TLSOptions.custom(client, role: .client)
        #expect(!serverTLS.requiresClientCertificate && clientTLS.verifyHostname)
        #expect(throws: MessagingError.self) { try TLSOptions.custom(server, role: .server, idFromCommonName: true) }
        try await Self.withServer(tls: serverTLS) { listening, _ in
            let port = try await listening.localAddress().port!
            try await Self.withClient(port: port, tls: clientTLS) { connected in
                let answer = try await connected.connection.request("id")
                #expect(answer == "swiftcopter")
            }
        }
    }

    @Test("PEM that is missing, malformed or of the wrong kind: invalid_tls_configuration, naming the file")
    func badPEM() throws {
        let pki = try TestPKI()
        #expect(throws: MessagingError.invalidTLSConfiguration(file: "/nonexistent/cert.pem", reason: "cannot read certificate chain: No such file or directory")) {
            try TLSOptions.server(fromPEMFiles: "/nonexistent/cert.pem", privateKeyFile: "/nonexistent/key.pem")
        }
        #expect(throws: MessagingError.invalidTLSConfiguration(file: nil, reason: "certificate chain is not a PEM certificate")) {
            try TLSOptions.server(certificateChainPEM: "not a certificate", privateKeyPEM: pki.server.privateKeyPEM)
        }
        #expect(throws: MessagingError.invalidTLSConfiguration(file: nil, reason: "private key is not a PEM private key")) {
            try TLSOptions.server(certificateChainPEM: pki.server.certificatePEM, privateKeyPEM: pki.server.certificatePEM)
        }
        let error = MessagingError.invalidTLSConfiguration(file: "/x.pem", reason: "cannot read trusted CA: No such file or directory")
        #expect(error.code.rawValue == "invalid_tls_configuration")
        #expect(error.message == "/x.pem: cannot read trusted CA: No such file or directory")
        #expect(throws: MessagingError.self) {
            try TLSOptions.server(certificateChainPEM: pki.server.certificatePEM, privateKeyPEM: pki.server.privateKeyPEM, idFromCommonName: true)
        }
    }
}
