import CleverMessaging
import NIOCore
import Testing

/// The integrity check two peers of this library agree on (``FileChecksum``),
/// end to end: both sides' preferences, and trailers sent by hand.
@Suite("Files: the agreed integrity check", .timeLimit(.minutes(1)))
struct FileChecksumTests {
    /// A server asking for `server` and a client asking for `client`, each with its own file root.
    static func withPair(
        server: FileChecksum,
        client: FileChecksum,
        serverLog: LogMessages = LogMessages(),
        _ body: (MessagingClient, TemporaryDirectory, TemporaryDirectory) async throws -> Void
    ) async throws {
        var serverConfiguration = ConnectionConfiguration()
        serverConfiguration.fileChecksum = server
        var clientConfiguration = ConnectionConfiguration()
        clientConfiguration.fileChecksum = client
        try await FileTransferTests.withPair(
            configuration: serverConfiguration, clientConfiguration: clientConfiguration, serverLog: serverLog, throughProxy: false
        ) { _, _, client, _, serverRoot, clientRoot in
            try await body(client, serverRoot, clientRoot)
        }
    }

    @Test(
        "push and pull use xxh64 only when both sides ask for it, SHA-256 otherwise",
        arguments: [(FileChecksum.xxh64, FileChecksum.xxh64), (.sha256, .xxh64), (.xxh64, .sha256), (.sha256, .sha256)]
    )
    func preferences(server: FileChecksum, client: FileChecksum) async throws {
        let expected: FileChecksum = server == .xxh64 && client == .xxh64 ? .xxh64 : .sha256
        try await Self.withPair(server: server, client: client) { client, serverRoot, clientRoot in
            let bytes = sampleBytes(count: 1024 * 1024 + 3)
            clientRoot.write("up.bin", bytes)
            _ = try await client.connection.request("id")
            let pushed = try await client.connection.pushFile(clientRoot.file("up.bin"), to: "up.bin")
            #expect(pushed.delivery == .acknowledged)
            #expect(pushed.checksum == expected)
            #expect(pushed.digest == FileTransferTests.digest(bytes, expected))
            #expect(pushed.sha256 == (expected == .sha256 ? FileTransferTests.sha256(bytes) : nil))
            #expect(serverRoot.read("up.bin") == bytes)
            let pulled = try await client.connection.pullFile("up.bin", to: clientRoot.file("down.bin"))
            #expect(pulled.checksum == expected)
            #expect(pulled.digest == pushed.digest)
            #expect(clientRoot.read("down.bin") == bytes)
        }
    }

    /// A push that announces an xxh64 trailer, by hand.
    static func push(_ path: String, _ bytes: [UInt8], checksum: String = "xxh64") -> Frame {
        Frame.filePush(
            path: path, bytes: ByteBuffer(bytes: bytes),
            extra: [ExtensionHeader.sha256Trailer: .bool(true), ExtensionHeader.checksum: .string(checksum)]
        )
    }

    @Test("an xxh64 trailer with the right digest is written; a wrong one, one under another name or an unknown check is not")
    func handSentTrailers() async throws {
        let serverLog = LogMessages()
        try await Self.withPair(server: .xxh64, client: .xxh64, serverLog: serverLog) { client, serverRoot, _ in
            let bytes = sampleBytes(count: 300_000)
            serverRoot.write("target.bin", Array("previous".utf8))
            _ = try await client.connection.request("id")
            let failures: [(Frame, Frame)] = [
                (Self.push("target.bin", bytes), Frame.action(ExtensionHeader.sha256Trailer, extra: ["xxh64": .string(String(repeating: "0", count: 16))])),
                // The SHA-256 of the right bytes, where an xxh64 digest was announced.
                (Self.push("target.bin", bytes), FileTrailerTests.trailer(FileTransferTests.sha256(bytes))),
                (Self.push("target.bin", bytes, checksum: "md5"), Frame.action(ExtensionHeader.sha256Trailer, extra: ["md5": "00"])),
            ]
            for (n, (push, trailer)) in failures.enumerated() {
                try await client.connection.enqueue(push).written()
                try await client.connection.enqueue(trailer).written()
                _ = try await client.connection.request("id")
                #expect(await serverLog.wait(for: "file push failed", count: n + 1))
                #expect(serverRoot.contents == ["target.bin"], "left: \(serverRoot.contents)")
                #expect(serverRoot.read("target.bin") == Array("previous".utf8))
            }
            try await client.connection.enqueue(Self.push("target.bin", bytes)).written()
            let trailer = Frame.action(ExtensionHeader.sha256Trailer, extra: ["xxh64": .string(FileTransferTests.xxh64(bytes))])
            try await client.connection.enqueue(trailer).written()
            #expect(await serverLog.wait(for: "received file"))
            #expect(serverRoot.read("target.bin") == bytes)
            #expect(serverRoot.contents == ["target.bin"], "left: \(serverRoot.contents)")
        }
    }
}
