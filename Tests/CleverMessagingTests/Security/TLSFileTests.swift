import CleverMessaging
import Testing

/// File bodies over TLS: sent as file regions (`sendfile`) on a plain link,
/// they are read into buffers for NIOSSL to encrypt.
@Suite("Security: files over TLS", .timeLimit(.minutes(1)))
struct TLSFileTests {
    @Test("push and pull over TLS arrive byte for byte, verified")
    func pushAndPull() async throws {
        let pki = try TestPKI()
        let serverRoot = TemporaryDirectory("server")
        let clientRoot = TemporaryDirectory("client")
        defer {
            serverRoot.remove()
            clientRoot.remove()
        }
        // TLS handshakes of a debug build on a loaded parallel run can take seconds: this test is about the files.
        var serverConfiguration = ConnectionConfiguration(handshakeTimeout: .seconds(30))
        serverConfiguration.filePolicy = try FilePolicy(allowedRoots: [serverRoot.path])
        var clientConfiguration = ConnectionConfiguration(handshakeTimeout: .seconds(30))
        clientConfiguration.filePolicy = try FilePolicy(allowedRoots: [clientRoot.path])
        let server = MessagingServer(
            host: "127.0.0.1", port: 0, registry: makeTestRegistry(), configuration: serverConfiguration, tls: try pki.serverTLS()
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.localAddress().port!
            let client = MessagingClient(
                host: "127.0.0.1", port: port, registry: makeTestRegistry(), configuration: clientConfiguration,
                reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50)), tls: try pki.clientTLS()
            )
            group.addTask { try await client.run() }
            try await client.connection.waitUntilConnected()
            // A frame from the server first: the push is then acknowledged.
            _ = try await client.connection.request("id")
            let bytes = sampleBytes(count: 3 * 1024 * 1024 + 17)
            clientRoot.write("show.bin", bytes)
            let pushed = try await client.connection.pushFile(clientRoot.file("show.bin"), to: "show.bin")
            #expect(pushed.delivery == .acknowledged)
            #expect(pushed.digest == FileTransferTests.digest(bytes, pushed.checksum))
            #expect(pushed.checksum == .xxh64)
            #expect(serverRoot.read("show.bin") == bytes)

            let back = sampleBytes(count: 2 * 1024 * 1024 + 5)
            serverRoot.write("config.ini", back)
            let pulled = try await client.connection.pullFile("config.ini", to: clientRoot.file("copy.ini"))
            #expect(pulled.bytes == Int64(back.count))
            #expect(clientRoot.read("copy.ini") == back)
            client.shutdown()
            server.shutdown()
            try await group.waitForAll()
        }
    }
}
