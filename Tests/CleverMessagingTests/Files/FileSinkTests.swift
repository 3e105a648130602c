import Foundation
import NIOCore
import Testing

@testable import CleverMessaging

/// The receiver's blocking half on tmpfs, where the hashing stage makes the
/// file's pages present ahead of the writer.
@Suite("Files: sink on tmpfs", .enabled(if: FileManager.default.fileExists(atPath: "/dev/shm")))
struct FileSinkTests {
    /// A fresh directory on tmpfs, removed by the caller.
    static func tmpfsDirectory() throws -> String {
        let path = "/dev/shm/clever-sink-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Feeds `bytes` in blocks of `blockSize` through both stages, in the order
    /// `hashFirst` says, and returns the file's bytes as synced and the digest.
    static func receive(_ bytes: [UInt8], blockSize: Int, hashFirst: Bool) throws -> (file: [UInt8], digest: String) {
        let directory = try tmpfsDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sink = try FileSink.createBlocking(besideDestination: directory + "/out.bin", checksum: .xxh64, expectedSize: Int64(bytes.count))
        #expect(sink.file.isOnTmpfsBlocking())
        let blocks = stride(from: 0, to: bytes.count, by: blockSize).map { ByteBuffer(bytes: bytes[$0..<min($0 + blockSize, bytes.count)]) }
        if hashFirst {
            for block in blocks {
                sink.hashBlocking(block)
                try sink.writeBlocking(block)
            }
        } else {
            for block in blocks { try sink.writeBlocking(block) }
            for block in blocks { sink.hashBlocking(block) }
        }
        let digest = sink.digest()
        try sink.syncAndCloseBlocking()
        let file = try Array(Data(contentsOf: URL(fileURLWithPath: sink.file.path)))
        return (file, digest)
    }

    @Test("pages made ahead of the writer hold exactly the bytes written, to the announced size")
    func pagesAhead() throws {
        let bytes = sampleBytes(count: 10 << 20 + 12_345)
        let received = try Self.receive(bytes, blockSize: 1 << 18, hashFirst: true)
        #expect(received.file.count == bytes.count)
        #expect(received.file == bytes)
        #expect(received.digest == FileTransferTests.xxh64(bytes))
    }

    @Test("a writer ahead of the hashing stage (pages already there) gives the same file")
    func writerAhead() throws {
        let bytes = sampleBytes(count: 6 << 20 + 1)
        let received = try Self.receive(bytes, blockSize: 100_000, hashFirst: false)
        #expect(received.file == bytes)
        #expect(received.digest == FileTransferTests.xxh64(bytes))
    }

    @Test("a small body on tmpfs gets no pages ahead and no size up front")
    func smallBody() throws {
        let directory = try Self.tmpfsDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sink = try FileSink.createBlocking(besideDestination: directory + "/small.bin", checksum: .sha256, expectedSize: 1000)
        defer { sink.discardBlocking() }
        #expect(LocalFile.sizeBlocking(of: sink.file.descriptor) == 0)
    }
}
