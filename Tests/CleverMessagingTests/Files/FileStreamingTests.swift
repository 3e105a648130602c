import CleverMessaging
import Crypto
import Foundation
import NIOCore
import NIOPosix
import Testing

/// Large files: batched receiving with writeback, sendfile bodies, and what
/// happens when a transfer breaks in the middle of them.
@Suite("Files: streaming large files", .timeLimit(.minutes(1)))
struct FileStreamingTests {
    /// `mebibytes` MiB where every MiB starts with its own index, so a chunk
    /// written twice, dropped or out of order changes the bytes.
    static func largeBytes(mebibytes: Int) -> [UInt8] {
        let block = sampleBytes(count: 1 << 20)
        var out = [UInt8]()
        out.reserveCapacity(mebibytes << 20)
        for index in 0..<mebibytes {
            var marked = block
            withUnsafeBytes(of: UInt64(index).bigEndian) { for (i, b) in $0.enumerated() { marked[i] = b } }
            out += marked
        }
        return out
    }

    @Test("a 40 MiB push and pull arrive byte for byte through many batches and writeback windows")
    func largeRoundTrip() async throws {
        try await FileTransferTests.withPair { _, client, _, serverRoot, clientRoot in
            let bytes = Self.largeBytes(mebibytes: 40)
            clientRoot.write("big.bin", bytes)
            _ = try await client.connection.request("id")
            let pushed = try await client.connection.pushFile(clientRoot.file("big.bin"), to: "big.bin")
            #expect(pushed.delivery == .acknowledged)
            #expect(pushed.checksum == .xxh64)
            #expect(pushed.digest == FileTransferTests.xxh64(bytes))
            #expect(serverRoot.read("big.bin") == bytes)
            let pulled = try await client.connection.pullFile("big.bin", to: clientRoot.file("back.bin"))
            #expect(pulled.checksum == .xxh64)
            #expect(pulled.digest == pushed.digest)
            #expect(clientRoot.read("back.bin") == bytes)
            #expect(serverRoot.contents == ["big.bin"])
            #expect(clientRoot.contents == ["back.bin", "big.bin"])
        }
    }

    /// The bytes a receiver's `file push progress` trace line says it wrote (0 for other lines).
    static func bytesWritten(in line: String) -> Int {
        let prefix = "file push progress: "
        guard line.hasPrefix(prefix) else { return 0 }
        return Int(line.dropFirst(prefix.count).prefix { $0.isNumber }) ?? 0
    }

    @Test("a peer that vanishes after many MiB (batched, written back) leaves the destination untouched and no temporary file")
    func interruptedLate() async throws {
        let serverLog = LogMessages()
        try await FileTransferTests.withPair(serverLog: serverLog) { server, _, _, serverRoot, _ in
            serverRoot.write("show.bin", Array("old show".utf8))
            let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: try await server.localAddress().port!).get()
            var head = ByteBuffer()
            try FrameWriter.writeHead(
                FrameHeader(contentType: .binary, contentLength: 64 << 20, messageType: .message, action: "filetransfer", filePath: "show.bin"),
                into: &head
            )
            try await raw.writeAndFlush(head)
            let block = ByteBuffer(bytes: sampleBytes(count: 1 << 20))
            for _ in 0..<24 { try await raw.writeAndFlush(block) }
            // The receiver has written well past two writeback windows into its temporary file
            // (its trace log reports each block written).
            let written = await serverLog.messages.wait { lines in
                lines.contains { Self.bytesWritten(in: $0) >= 16 << 20 }
            }
            #expect(written, "written: \(serverLog.messages.value.map(Self.bytesWritten(in:)).max() ?? 0) bytes")
            try await raw.close()
            // The receiver reports the failure once its temporary file is gone.
            #expect(await serverLog.wait(for: "file push failed"))
            #expect(serverRoot.contents == ["show.bin"], "left: \(serverRoot.contents)")
            #expect(serverRoot.read("show.bin") == Array("old show".utf8))
        }
    }

    @Test("a body sent in pieces of mixed sizes (small ones copied into blocks, large ones passed through) arrives byte for byte, and the link goes on")
    func mixedPieces() async throws {
        let serverLog = LogMessages()
        try await FileTransferTests.withPair(serverLog: serverLog) { server, _, _, serverRoot, _ in
            let sizes = [100, 70_000, 5, 40_000, 300_000, 1, 1 << 16, 33, 200_000, 7, 32_768, 32_767, 1 << 20, 3]
            let bytes = Self.largeBytes(mebibytes: 3)[0..<sizes.reduce(0, +)]
            let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: try await server.localAddress().port!).get()
            var head = ByteBuffer()
            let digest = SHA256.hash(data: Array(bytes)).map { String(format: "%02x", $0) }.joined()
            try FrameWriter.writeHead(
                FrameHeader(
                    contentType: .binary, contentLength: bytes.count, messageType: .message, action: "filetransfer", filePath: "mixed.bin",
                    extra: ["sha256": .string(digest)]
                ),
                into: &head
            )
            try await raw.writeAndFlush(head)
            var offset = bytes.startIndex
            for size in sizes {
                // Each piece is flushed on its own, so the receiver reads pieces of about these sizes.
                try await raw.writeAndFlush(ByteBuffer(bytes: bytes[offset..<(offset + size)]))
                offset += size
            }
            #expect(await serverLog.wait(for: "received file"))
            #expect(serverRoot.read("mixed.bin") == Array(bytes))
            // The link reads frames as before: a second, small push on it arrives too.
            var second = ByteBuffer()
            let small = Array("after the big one".utf8)
            try FrameWriter.writeHead(
                FrameHeader(
                    contentType: .binary, contentLength: small.count, messageType: .message, action: "filetransfer", filePath: "small.bin",
                    extra: ["sha256": .string(SHA256.hash(data: small).map { String(format: "%02x", $0) }.joined())]
                ),
                into: &second
            )
            second.writeBytes(small)
            try await raw.writeAndFlush(second)
            #expect(await serverLog.wait(for: "received file", count: 2))
            #expect(serverRoot.read("small.bin") == small)
            #expect(serverRoot.contents == ["mixed.bin", "small.bin"], "left: \(serverRoot.contents)")
            try await raw.close()
        }
    }

    @Test("a file that shrinks while it is sent fails the push with a read error and the receiver keeps nothing")
    func shrinkingSource() async throws {
        let serverLog = LogMessages()
        try await FileTransferTests.withPair(serverLog: serverLog) { _, client, _, serverRoot, clientRoot in
            // Sparse: 128 MiB of zeros that take no disk space.
            let path = clientRoot.file("growing-smaller.bin")
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.truncate(atOffset: 128 << 20)
            _ = try await client.connection.request("id")
            do {
                _ = try await client.connection.pushFile(
                    path,
                    to: "shrunk.bin",
                    progress: { _ in try? handle.truncate(atOffset: 1 << 20) }
                )
                Issue.record("the push of a file that shrank succeeded")
            } catch let error as MessagingError {
                guard case .fileIO(let operation, _, _) = error else {
                    Issue.record("unexpected error: \(error)")
                    return
                }
                #expect(operation == "read")
            }
            try handle.close()
            // The receiver reports the failure once its temporary file is gone.
            #expect(await serverLog.wait(for: "file push failed"))
            #expect(serverRoot.contents.isEmpty, "left: \(serverRoot.contents)")
        }
    }
}
