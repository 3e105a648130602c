import CleverMessaging
import Testing

/// Every command of `clever-msg` reports a failure as the console does:
/// `error: MESSAGE`, or one JSON object with `--json`.
@Suite("clever-msg: one error format", .timeLimit(.minutes(1)))
struct ErrorFormatTests {
    @Test("an option the parser refuses: error: on standard error, with the usage")
    func optionError() async throws {
        let result = try await CleverMsgBinary.run(["serve", "--port", "99999"])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error: --port: invalid port 99999"), "\(result.stderr)")
        let json = try await CleverMsgBinary.run(["encode", "action", "go", "--args", "[1,"])
        #expect(json.stderr.hasPrefix("error: --args is not valid JSON: "), "\(json.stderr)")
    }

    @Test("a failure while running: error: MESSAGE, or {\"error\": {code, message}} with --json")
    func runError() async throws {
        let text = try await CleverMsgBinary.run(["serve", "--port", "0", "--root", "/nonexistent/station"])
        #expect(text.status == 1)
        #expect(text.stderr == "error: allowed root is missing or not a directory: \"/nonexistent/station\"\n")

        let json = try await CleverMsgBinary.run(["serve", "--port", "0", "--json", "--root", "/nonexistent/station"])
        #expect(json.status == 1)
        let line = try JSONParser.parse(Array(json.stderr.utf8))
        #expect(line == ["error": ["code": "file_refused", "message": "allowed root is missing or not a directory: \"/nonexistent/station\""]])
    }

    @Test("a file that is not there is named with strerror's text, not errno")
    func missingFile() async throws {
        let result = try await CleverMsgBinary.run(["inspect", "/nonexistent/frames.bin"])
        #expect(result.status == 1)
        let line = try JSONParser.parse(Array(try #require(result.lines.last).utf8))
        #expect(line == ["error": ["code": "failed", "message": "cannot open /nonexistent/frames.bin: No such file or directory"]])
    }
}
