import CleverMessaging
import Crypto
import Foundation
import NIOCore
import Testing

/// File push and pull between Swift and the Python reference-style peer, both directions.
@Suite("Interop: files", .timeLimit(.minutes(2)))
struct FileInteropTests {
    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    @Test("Swift client and Python server: push and pull, binary and empty, both directions")
    func swiftClientPythonServer() async throws {
        let pythonRoot = TemporaryDirectory("py")
        let swiftRoot = TemporaryDirectory("swift")
        defer {
            pythonRoot.remove()
            swiftRoot.remove()
        }
        let bytes = sampleBytes(count: 300_000)
        swiftRoot.write("anim.bin", bytes)
        swiftRoot.write("empty.bin", [])
        pythonRoot.write("served.bin", bytes.reversed())
        pythonRoot.write("served_empty.txt", [])

        let peer = try PythonPeer(["server", "--port", "0", "--root", pythonRoot.path])
        let port = try await peer.listeningPort()
        var configuration = ConnectionConfiguration()
        configuration.filePolicy = try FilePolicy(allowedRoots: [swiftRoot.path])
        let clientLog = LogMessages()
        let client = MessagingClient(
            host: "127.0.0.1", port: port, registry: makeTestRegistry(), configuration: configuration, logger: clientLog.logger("clever.client")
        )
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await #expect(throws: Never.self) { try await client.run() } }
            do {
                try await client.connection.waitUntilConnected()
                try await peer.waitFor("accepted")
                let connection = client.connection

                // Swift pushes; the reference sends no acknowledgement.
                let pushed = try await connection.pushFile(swiftRoot.file("anim.bin"), to: "animation.bin")
                #expect(pushed.delivery == .written)
                let received = try await peer.waitFor("file_received")[0]
                #expect(received["size"] == .integer(bytes.count))
                #expect(received["sha256"] == .string(Self.sha256(bytes)))
                #expect(pythonRoot.read("animation.bin") == bytes)
                _ = try await connection.pushFile(swiftRoot.file("empty.bin"), to: "empty.bin")
                try await peer.waitFor("file_received", count: 2)
                #expect(pythonRoot.read("empty.bin") == [])

                // Swift pulls from the reference.
                let pulled = try await connection.pullFile("served.bin", to: swiftRoot.file("got.bin"))
                #expect(pulled.bytes == Int64(bytes.count))
                #expect(swiftRoot.read("got.bin") == bytes.reversed())
                let pulledEmpty = try await connection.pullFile("served_empty.txt", to: swiftRoot.file("got_empty.txt"))
                #expect(pulledEmpty.bytes == 0)
                #expect(swiftRoot.read("got_empty.txt") == [])

                // The reference pulls from Swift, and pushes to Swift.
                peer.send(["cmd": "pull", "remote": "anim.bin", "local": "from_swift.bin", "tag": "p1"])
                let file = try await peer.waitFor("file")[0]
                #expect(file["ok"] == true)
                #expect(file["sha256"] == .string(Self.sha256(bytes)))
                peer.send(["cmd": "push", "local": "served.bin", "remote": "pushed_by_python.bin"])
                // The receiver logs the file once it is renamed into place.
                #expect(await clientLog.wait(for: "received file"))
                #expect(swiftRoot.read("pushed_by_python.bin") == bytes.reversed())
                // A reference peer asking for a path outside the root gets nothing (it expects no error reply).
                peer.send(["cmd": "pull", "remote": "/etc/passwd", "local": "stolen", "tag": "p2"])
                // A pull asked after it is answered after it: once that answer is in, the refused one had its turn.
                peer.send(["cmd": "pull", "remote": "anim.bin", "local": "after_refusal.bin", "tag": "p3"])
                let after = try await peer.waitFor("file", count: 2)
                #expect(after.contains { $0["tag"] == "p3" && $0["ok"] == true })
                #expect(peer.events("file") { $0["tag"] == "p2" && $0["ok"] == true }.isEmpty)
                #expect(pythonRoot.read("stolen") == nil)
                #expect(!swiftRoot.contents.contains { $0.hasSuffix(".part") })
            } catch {
                Issue.record(error)
            }
            client.shutdown()
            await peer.quit()
        }
    }

    @Test("to a reference peer a push is sent whole, unasked, and the peer refuses it after the body")
    func pushToAReferencePeerThatCannotWriteIt() async throws {
        let pythonRoot = TemporaryDirectory("py")
        let swiftRoot = TemporaryDirectory("swift")
        defer {
            pythonRoot.remove()
            swiftRoot.remove()
        }
        let bytes = sampleBytes(count: 200_000)
        swiftRoot.write("anim.bin", bytes)
        let peer = try PythonPeer(["server", "--port", "0", "--root", pythonRoot.path])
        let port = try await peer.listeningPort()
        let client = MessagingClient(host: "127.0.0.1", port: port, registry: makeTestRegistry())
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await #expect(throws: Never.self) { try await client.run() } }
            do {
                try await client.connection.waitUntilConnected()
                try await peer.waitFor("accepted")
                // The reference writes where it is told; a directory that does not exist makes it fail.
                let pushed = try await client.connection.pushFile(swiftRoot.file("anim.bin"), to: "no_such_directory/anim.bin")
                #expect(pushed.delivery == .written)
                #expect(pushed.bytes == Int64(bytes.count))
                try await peer.waitFor("error") { $0["message"]?.stringValue?.contains("could not write file") == true }
                // It was asked nothing before the body: no request of this library's reached it.
                try await peer.sync()
                #expect(peer.events("unknown_request").isEmpty, "\(peer.events)")
                #expect(peer.events("request").isEmpty, "\(peer.events)")
            } catch {
                Issue.record(error)
            }
            client.shutdown()
            await peer.quit()
        }
    }
}
