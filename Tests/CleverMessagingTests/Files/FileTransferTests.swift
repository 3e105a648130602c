import CleverMessaging
import Crypto
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// File push and pull between a Swift server and client over loopback.
@Suite("Files: Swift to Swift", .timeLimit(.minutes(1)))
struct FileTransferTests {
    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func xxh64(_ bytes: [UInt8]) -> String {
        var hasher = XXH64()
        hasher.update(bytes)
        return hasher.hexDigest()
    }

    /// The digest of `bytes` by `checksum` (`nil` for none).
    static func digest(_ bytes: [UInt8], _ checksum: FileChecksum?) -> String? {
        switch checksum {
        case .sha256: sha256(bytes)
        case .xxh64: xxh64(bytes)
        case nil: nil
        }
    }

    /// A server whose file policy is confined to `serverRoot`, and a client confined to `clientRoot`.
    static func withPair(
        serverLog: LogMessages = LogMessages(),
        _ body: (MessagingServer, MessagingClient, Connection, TemporaryDirectory, TemporaryDirectory) async throws -> Void
    ) async throws {
        try await withPair(serverLog: serverLog, throughProxy: false) { _, server, client, serverSide, serverRoot, clientRoot in
            try await body(server, client, serverSide, serverRoot, clientRoot)
        }
    }

    /// ``withPair(serverLog:_:)`` with the server's `configuration` and the client's
    /// (`clientConfiguration`, or the same), each with a file policy on its own root,
    /// linked directly or, with `throughProxy`, through a ``FaultProxy``, on `loops`.
    static func withPair(
        configuration: ConnectionConfiguration = .init(),
        clientConfiguration: ConnectionConfiguration? = nil,
        serverLog: LogMessages = LogMessages(),
        throughProxy: Bool,
        loops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (FaultProxy?, MessagingServer, MessagingClient, Connection, TemporaryDirectory, TemporaryDirectory) async throws -> Void
    ) async throws {
        let serverRoot = TemporaryDirectory("server")
        let clientRoot = TemporaryDirectory("client")
        defer {
            serverRoot.remove()
            clientRoot.remove()
        }
        var serverConfiguration = configuration
        serverConfiguration.filePolicy = try FilePolicy(allowedRoots: [serverRoot.path])
        var clientConfiguration = clientConfiguration ?? configuration
        clientConfiguration.filePolicy = try FilePolicy(allowedRoots: [clientRoot.path])
        try await SwiftPairTests.withPair(
            configuration: serverConfiguration, clientConfiguration: clientConfiguration, serverLogger: serverLog.logger("clever.server"),
            throughProxy: throughProxy, loops: loops
        ) {
            proxy, server, client, serverSide in
            try await body(proxy, server, client, serverSide, serverRoot, clientRoot)
        }
    }

    @Test("push: streamed, verified, acknowledged by a peer of this library; progress reported")
    func push() async throws {
        let serverLog = LogMessages()
        try await Self.withPair(serverLog: serverLog) { _, client, _, serverRoot, clientRoot in
            let bytes = sampleBytes(count: 3 * 1024 * 1024 + 17)
            clientRoot.write("show.bin", bytes)
            // The server has not sent anything yet: no proof it speaks the extensions.
            let first = try await client.connection.pushFile(clientRoot.file("show.bin"), to: "first.bin")
            #expect(first.delivery == .written)
            // Written, not acknowledged: the receiver's log says when it is in place.
            #expect(await serverLog.wait(for: "received file"))
            #expect(serverRoot.read("first.bin") == bytes)
            // Any frame from it carries the capabilities key; from then on pushes are acknowledged.
            _ = try await client.connection.request("id")
            let seen = NIOLockedValueBox<[FileTransferProgress]>([])
            let result = try await client.connection.pushFile(
                clientRoot.file("show.bin"),
                to: "animations/show.bin",
                progress: { p in seen.withLockedValue { $0.append(p) } }
            )
            #expect(result.delivery == .acknowledged)
            #expect(result.bytes == Int64(bytes.count))
            // Both sides ask for the fast check (the default): the SHA-256 is not computed.
            #expect(result.checksum == .xxh64)
            #expect(result.digest == Self.xxh64(bytes))
            #expect(result.sha256 == nil)
            #expect(serverRoot.read("animations/show.bin") == bytes)
            let reports = seen.withLockedValue { $0 }
            #expect(reports.last == FileTransferProgress(bytesDone: Int64(bytes.count), totalBytes: Int64(bytes.count)))
            #expect(reports.count >= 3)
            #expect(!serverRoot.contents.contains { $0.hasSuffix(".part") })
        }
    }

    @Test("pull: the file comes back byte for byte and is written atomically")
    func pull() async throws {
        try await Self.withPair { _, client, _, serverRoot, clientRoot in
            let bytes = sampleBytes(count: 2 * 1024 * 1024 + 5)
            serverRoot.write("config/client.ini", bytes)
            clientRoot.write("copy.ini", Array("old content".utf8))
            let result = try await client.connection.pullFile("config/client.ini", to: clientRoot.file("copy.ini"))
            #expect(result.delivery == .received)
            #expect(result.bytes == Int64(bytes.count))
            #expect(result.checksum != nil)
            #expect(result.digest == Self.digest(bytes, result.checksum))
            #expect(clientRoot.read("copy.ini") == bytes)
            #expect(clientRoot.contents == ["copy.ini"])
        }
    }

    @Test("empty files push and pull")
    func empty() async throws {
        try await Self.withPair { _, client, _, serverRoot, clientRoot in
            clientRoot.write("empty", [])
            _ = try await client.connection.request("id")
            let pushed = try await client.connection.pushFile(clientRoot.file("empty"), to: "empty.txt")
            #expect(pushed.delivery == .acknowledged)
            #expect(serverRoot.read("empty.txt") == [])
            let pulled = try await client.connection.pullFile("empty.txt", to: clientRoot.file("back.txt"))
            #expect(pulled.bytes == 0)
            #expect(clientRoot.read("back.txt") == [])
        }
    }

    @Test("a wrong sha256 is refused: the destination is untouched and no temporary file stays")
    func checksumMismatch() async throws {
        let serverLog = LogMessages()
        try await Self.withPair(serverLog: serverLog) { _, client, serverSide, serverRoot, _ in
            serverRoot.write("target.bin", Array("previous".utf8))
            _ = try await client.connection.request("id")
            let frame = Frame.filePush(
                path: "target.bin",
                bytes: ByteBuffer(bytes: sampleBytes(count: 10_000)),
                extra: [ExtensionHeader.sha256: .string(String(repeating: "0", count: 64))]
            )
            try await client.connection.enqueue(frame).written()
            // The link stays usable, and the old file is intact.
            _ = try await client.connection.request("id")
            // The receiver reports the failure once its temporary file is gone.
            #expect(await serverLog.wait(for: "file push failed"))
            #expect(serverRoot.contents == ["target.bin"], "left: \(serverRoot.contents)")
            #expect(serverRoot.read("target.bin") == Array("previous".utf8))
            _ = serverSide
        }
    }

    @Test("a peer that vanishes mid-file leaves the destination untouched and no temporary file")
    func interrupted() async throws {
        let serverLog = LogMessages()
        try await Self.withPair(serverLog: serverLog) { server, _, _, serverRoot, _ in
            serverRoot.write("show.csv", Array("old show".utf8))
            let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: try await server.localAddress().port!).get()
            var head = ByteBuffer()
            try FrameWriter.writeHead(
                FrameHeader(contentType: .binary, contentLength: 5_000_000, messageType: .message, action: "filetransfer", filePath: "show.csv"),
                into: &head
            )
            head.writeBytes(sampleBytes(count: 300_000))
            try await raw.writeAndFlush(head)
            try await raw.close()
            #expect(await serverLog.wait(for: "file push failed"))
            #expect(serverRoot.contents == ["show.csv"], "left: \(serverRoot.contents)")
            #expect(serverRoot.read("show.csv") == Array("old show".utf8))
        }
    }

    @Test("a push to a destination the receiver refuses fails before a byte of its body is written")
    func refusedBeforeTheBody() async throws {
        let serverLog = LogMessages()
        try await Self.withPair(serverLog: serverLog) { _, client, _, serverRoot, clientRoot in
            clientRoot.write("show.bin", sampleBytes(count: 4 * 1024 * 1024))
            // Any frame from the server carries the capabilities key: it is known to be a peer of this library.
            _ = try await client.connection.request("id")
            let written = NIOLockedValueBox<[FileTransferProgress]>([])
            do throws(MessagingError) {
                _ = try await client.connection.pushFile(
                    clientRoot.file("show.bin"), to: "../outside/show.bin", progress: { p in written.withLockedValue { $0.append(p) } }
                )
                Issue.record("the push was accepted")
            } catch {
                #expect(error.code == .remote)
                guard case .remote(let remote) = error else { return }
                #expect(remote.code == RemoteError.Code.fileRefused)
                #expect(remote.message.contains(".."), "\(remote.message)")
            }
            // The body writer reports every region it writes: it wrote none.
            #expect(written.withLockedValue { $0 }.isEmpty)
            // Everything the client wrote before this request's reply has been read by the server:
            // the refusal of the check, never a push frame's header.
            _ = try await client.connection.request("id")
            let messages = serverLog.messages.value
            #expect(messages.contains("file push refused before its body"), "\(messages)")
            #expect(!messages.contains("file push refused"), "\(messages)")
            #expect(serverRoot.contents.isEmpty)
            // An accepted destination still goes through, checked first.
            let pushed = try await client.connection.pushFile(clientRoot.file("show.bin"), to: "inside/show.bin")
            #expect(pushed.delivery == .acknowledged)
            #expect(serverRoot.read("inside/show.bin")?.count == 4 * 1024 * 1024)
        }
    }

    @Test("hostile paths are refused for push and pull with an error reply")
    func refused() async throws {
        try await Self.withPair { _, client, _, serverRoot, clientRoot in
            clientRoot.write("x", [1, 2, 3])
            _ = try await client.connection.request("id")
            for path in ["../escape.bin", "/etc/passwd", "a/../../x", "~/x"] {
                do {
                    _ = try await client.connection.pushFile(clientRoot.file("x"), to: path)
                    Issue.record("push to \(path) was accepted")
                } catch {
                    guard case .remote(let remote)? = error as? MessagingError else { Issue.record("push to \(path): \(error)"); continue }
                    #expect(remote.code == RemoteError.Code.fileRefused)
                }
                do {
                    _ = try await client.connection.pullFile(path, to: clientRoot.file("pulled"))
                    Issue.record("pull of \(path) was served")
                } catch {
                    guard case .remote(let remote)? = error as? MessagingError else { Issue.record("pull of \(path): \(error)"); continue }
                    #expect(remote.code == RemoteError.Code.fileRefused)
                }
            }
            #expect(serverRoot.contents.isEmpty)
            #expect(clientRoot.contents == ["x"])
        }
    }
}
