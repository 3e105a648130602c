import CleverMessaging
import NIOCore
import Testing

/// The digest that follows a body (``ExtensionHeader/sha256Trailer``), sent by
/// hand so that every way it can go wrong reaches the receiver.
@Suite("Files: digest trailer", .timeLimit(.minutes(1)))
struct FileTrailerTests {
    /// A push that announces that its digest follows.
    static func push(_ path: String, _ bytes: [UInt8]) -> Frame {
        Frame.filePush(path: path, bytes: ByteBuffer(bytes: bytes), extra: [ExtensionHeader.sha256Trailer: .bool(true)])
    }

    /// The trailer frame carrying `digest`.
    static func trailer(_ digest: String) -> Frame {
        Frame.action(ExtensionHeader.sha256Trailer, extra: [ExtensionHeader.sha256: .string(digest)])
    }

    @Test("a body followed by its right digest is written; the trailer is not taken for an action")
    func rightDigest() async throws {
        let serverLog = LogMessages()
        try await FileTransferTests.withPair(serverLog: serverLog) { _, client, _, serverRoot, _ in
            let bytes = sampleBytes(count: 300_000)
            _ = try await client.connection.request("id")
            try await client.connection.enqueue(Self.push("fresh.bin", bytes)).written()
            try await client.connection.enqueue(Self.trailer(FileTransferTests.sha256(bytes))).written()
            _ = try await client.connection.request("id")
            #expect(await eventually { serverRoot.read("fresh.bin") == bytes })
            #expect(await eventually { serverRoot.contents == ["fresh.bin"] }, "left: \(serverRoot.contents)")
        }
    }

    @Test("a wrong digest in the trailer is refused: the destination is untouched and no temporary file stays")
    func wrongDigest() async throws {
        let serverLog = LogMessages()
        try await FileTransferTests.withPair(serverLog: serverLog) { _, client, _, serverRoot, _ in
            serverRoot.write("target.bin", Array("previous".utf8))
            _ = try await client.connection.request("id")
            try await client.connection.enqueue(Self.push("target.bin", sampleBytes(count: 300_000))).written()
            try await client.connection.enqueue(Self.trailer(String(repeating: "0", count: 64))).written()
            // The link stays usable, and the old file is intact.
            _ = try await client.connection.request("id")
            // The receiver reports the failure once its temporary file is gone.
            #expect(await serverLog.wait(for: "file push failed"))
            #expect(serverRoot.contents == ["target.bin"], "left: \(serverRoot.contents)")
            #expect(serverRoot.read("target.bin") == Array("previous".utf8))
        }
    }

    @Test("a body whose trailer does not come is not kept; the frame in its place is still handled")
    func missingTrailer() async throws {
        let serverLog = LogMessages()
        try await FileTransferTests.withPair(serverLog: serverLog) { _, client, _, serverRoot, _ in
            serverRoot.write("target.bin", Array("previous".utf8))
            _ = try await client.connection.request("id")
            try await client.connection.enqueue(Self.push("target.bin", sampleBytes(count: 300_000))).written()
            // A request instead of the trailer: answered, and the body is dropped.
            _ = try await client.connection.request("id")
            // The receiver reports the failure once its temporary file is gone.
            #expect(await serverLog.wait(for: "file push failed"))
            #expect(serverRoot.contents == ["target.bin"], "left: \(serverRoot.contents)")
            #expect(serverRoot.read("target.bin") == Array("previous".utf8))
            // A second body announced without its trailer, directly followed by another body.
            try await client.connection.enqueue(Self.push("target.bin", sampleBytes(count: 1000))).written()
            try await client.connection.enqueue(Frame.filePush(path: "other.bin", bytes: ByteBuffer(bytes: [1, 2, 3]))).written()
            #expect(await eventually { serverRoot.read("other.bin") == [1, 2, 3] })
            #expect(await eventually { Set(serverRoot.contents) == ["target.bin", "other.bin"] }, "left: \(serverRoot.contents)")
            #expect(serverRoot.read("target.bin") == Array("previous".utf8))
        }
    }

    @Test("a link that drops between a body and its trailer leaves the destination untouched and no temporary file")
    func dropBeforeTrailer() async throws {
        let serverLog = LogMessages()
        try await FileTransferTests.withPair(serverLog: serverLog) { _, client, _, serverRoot, _ in
            serverRoot.write("target.bin", Array("previous".utf8))
            _ = try await client.connection.request("id")
            try await client.connection.enqueue(Self.push("target.bin", sampleBytes(count: 300_000))).written()
            client.shutdown()
            #expect(await serverLog.wait(for: "file push failed"))
            #expect(serverRoot.contents == ["target.bin"], "left: \(serverRoot.contents)")
            #expect(serverRoot.read("target.bin") == Array("previous".utf8))
        }
    }
}
