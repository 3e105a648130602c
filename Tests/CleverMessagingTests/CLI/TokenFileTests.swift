import CleverMessaging
import Foundation
import Testing

/// `--token-file` on the command line: an unusable file stops the command with
/// one error line and exit code 2; a station that requires a token lets a
/// drone with it in and prints a JSON line for a drone without.
@Suite("CLI: token files", .timeLimit(.minutes(2)))
struct TokenFileTests {
    @Test("a missing or malformed token file: one error line, exit code 2, for serve, drone and swarm")
    func unusableFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clever-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty").path
        try Data("# no token here\n".utf8).write(to: URL(fileURLWithPath: empty))
        let twoWords = directory.appendingPathComponent("two").path
        try Data("copter-1 secret\n".utf8).write(to: URL(fileURLWithPath: twoWords))

        let missing = try await CleverMsgBinary.run(["serve", "--port", "0", "--token-file", "/nonexistent/tokens"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "error: token file /nonexistent/tokens: cannot read: No such file or directory\n")

        let malformed = try await CleverMsgBinary.run(["serve", "--port", "0", "--token-file", empty])
        #expect(malformed.status == 2)
        #expect(malformed.stderr == "error: token file \(empty): no token in the file\n")

        let drone = try await CleverMsgBinary.run(["drone", "--token-file", twoWords])
        #expect(drone.status == 2)
        #expect(drone.stderr == "error: token file \(twoWords), line 1: expected one token on the line, found 2 words\n")

        let swarm = try await CleverMsgBinary.run(["swarm", "--count", "1", "--json", "--token-file", "/nonexistent/tokens"])
        #expect(swarm.status == 2)
        let line = try JSONParser.parse(Array(swarm.stderr.utf8))
        #expect(line["error"]?["code"] == "token_file")
    }

    @Test("serve --token-file: a drone with the token is identified; one without is refused, with a JSON line")
    func serveWithToken() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("clever-token-\(UUID().uuidString)").path
        try Data("fleet-secret\n".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0", "--json", "--token-file", file, "--handshake-timeout", "0.5"])
        defer { station.terminate() }
        let listening = try await station.waitForLines { $0["listening"] != nil }
        let address = try #require(listening.first?["listening"]?.stringValue)

        let good = try PythonPeer(executable: binary, arguments: ["drone", "--server", address, "--id", "copter-7", "--json", "--token-file", file])
        defer { good.terminate() }
        try await station.waitForLines { $0["event"] == "connected" && $0["id"] == "copter-7" }

        let bad = try PythonPeer(executable: binary, arguments: ["drone", "--server", address, "--id", "copter-8", "--json"])
        defer { bad.terminate() }
        let refused = try await station.waitForLines { $0["refused"] != nil }
        #expect(refused.first?["reason"] == "authentication_required")
        #expect(station.lines { $0["id"] == "copter-8" }.isEmpty)
    }
}
