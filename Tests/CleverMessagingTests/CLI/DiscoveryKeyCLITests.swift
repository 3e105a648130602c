import CleverMessaging
import Testing

/// `--discovery-key FILE` on `serve`, `drone` and `swarm`: a file that is
/// missing or whose first line is blank stops the command before it starts,
/// with one `error:` line and exit status 2.
@Suite("clever-msg: --discovery-key", .timeLimit(.minutes(1)))
struct DiscoveryKeyCLITests {
    static let commands: [[String]] = [
        ["serve", "--port", "0", "--announce", "127.0.0.1:9"],
        ["drone", "--server", "127.0.0.1:9", "--discover", "9"],
        ["swarm", "--server", "127.0.0.1:9", "--count", "1", "--discover", "9"],
    ]

    @Test("a missing key file: error: --discovery-key: cannot read …, exit status 2", arguments: commands)
    func missingFile(command: [String]) async throws {
        let result = try await CleverMsgBinary.run(command + ["--discovery-key", "/nonexistent/discovery.key"])
        #expect(result.status == 2)
        #expect(
            result.stderr
                == "error: --discovery-key: cannot read discovery key file /nonexistent/discovery.key: No such file or directory\n"
        )
    }

    @Test("a key file whose first line is blank: exit status 2, and the JSON error with --json", arguments: commands)
    func blankFirstLine(command: [String]) async throws {
        let file = try CleverMsgBinary.temporaryFile(Array("\nsecret on the second line\n".utf8))
        let text = try await CleverMsgBinary.run(command + ["--discovery-key", file.path])
        #expect(text.status == 2)
        #expect(text.stderr == "error: --discovery-key: discovery key file \(file.path): the first line is empty (it must hold the key)\n")
        let json = try await CleverMsgBinary.run(command + ["--json", "--discovery-key", file.path])
        #expect(json.status == 2)
        let line = try JSONParser.parse(Array(json.stderr.utf8))
        #expect(line["error"]?["code"] == "invalid_discovery_key")
    }

    @Test("a key without the beacon it would sign or check is a usage error, not a silent no-op", arguments: [
        (["serve", "--port", "0"], "--announce"),
        (["drone", "--server", "127.0.0.1:9"], "--discover"),
        (["swarm", "--server", "127.0.0.1:9", "--count", "1"], "--discover"),
    ])
    func keyWithoutDiscovery(command: [String], needed: String) async throws {
        let file = try CleverMsgBinary.temporaryFile(Array("secret\n".utf8))
        let result = try await CleverMsgBinary.run(command + ["--discovery-key", file.path])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error: --discovery-key"), "\(result.stderr)")
        #expect(result.stderr.contains("it needs \(needed)"), "\(result.stderr)")
    }
}
