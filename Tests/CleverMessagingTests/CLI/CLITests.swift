import CleverMessaging
import Foundation
import Testing

/// Runs the built `clever-msg` executable as a subprocess.
///
/// The test target depends on the executable target (its console types are
/// unit-tested), and `swift build --build-tests` (and `swift test`) build
/// every product, so the binary sits in the same products directory as the
/// test bundle.
enum CleverMsgBinary {
    /// What one run printed and how it exited.
    struct Result {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
        /// Standard output as text.
        var text: String { String(decoding: stdout, as: UTF8.self) }
        /// Standard output split into lines (without the final empty one).
        var lines: [String] {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            return lines
        }
        /// The `--json` lines of a bench run, by their `bench` name.
        var measurements: [String: JSONValue] {
            let parsed = lines.compactMap { try? JSONParser.parse($0) }
            return Dictionary(parsed.compactMap { line in line["bench"]?.stringValue.map { ($0, line) } }, uniquingKeysWith: { $1 })
        }
    }

    /// The executable, if it can be found.
    static let url: URL? = locate()

    /// Where the executable was looked for, for the failure message.
    static func candidates() -> [URL] {
        // An explicit choice wins: CLEVER_MSG_BINARY=/path/to/clever-msg.
        if let override = ProcessInfo.processInfo.environment["CLEVER_MSG_BINARY"] {
            return [URL(fileURLWithPath: override)]
        }
        var result: [URL] = []
        // 1. The products directory of this test run: beside the test executable or
        //    bundle (Linux: .build/<config>/X.xctest; macOS: X.xctest/Contents/MacOS/X).
        var starts = [URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()]
        starts += Bundle.allBundles.map(\.bundleURL)
        for start in starts {
            var directory = start.deletingLastPathComponent()
            for _ in 0..<4 {
                result.append(directory.appendingPathComponent("clever-msg"))
                directory = directory.deletingLastPathComponent()
            }
        }
        // 2. Any scratch directory of the package (.build, .build-*), newest first.
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let scratch = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
            .filter { $0.hasPrefix(".build") }
            .flatMap { name in
                ["debug", "release"].map { root.appendingPathComponent(name).appendingPathComponent($0).appendingPathComponent("clever-msg") }
            }
            .sorted { modificationDate($0) > modificationDate($1) }
        result += scratch
        return result
    }

    private static func modificationDate(_ url: URL) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
    }

    private static func locate() -> URL? {
        candidates().first { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
                && !isDirectory.boolValue && FileManager.default.isExecutableFile(atPath: url.path)
        }
    }

    /// The error a test fails with when the executable was not built.
    struct MissingExecutable: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `clever-msg arguments` with `input` on standard input.
    static func run(_ arguments: [String], input: [UInt8] = []) async throws -> Result {
        guard let url else {
            let searched = candidates().map(\.path).joined(separator: ", ")
            throw MissingExecutable(
                description: "clever-msg executable not found; build all products first (swift build --build-tests). Searched: \(searched)"
            )
        }
        let output = try await ChildProcess.run(url, arguments, input: Data(input))
        return Result(status: output.status, stdout: Array(output.stdout), stderr: String(decoding: output.stderr, as: UTF8.self))
    }

    /// Writes `bytes` to a fresh temporary file and returns its path.
    static func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clever-msg-test-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        return url
    }
}


/// The header and content text of a reference frame, as the reference wrote them.
private func parts(of bytes: [UInt8]) -> (header: String, content: [UInt8]) {
    let length = Int(bytes[0]) << 8 | Int(bytes[1])
    return (String(decoding: bytes[2..<(2 + length)], as: UTF8.self), Array(bytes[(2 + length)...]))
}

@Suite("clever-msg executable")
struct CLITests {
    /// SHA-256 of the binary vectors' content (computed with Python's hashlib).
    static let binaryDigests: [String: String] = [
        "response_file": "38f56c4cf263fc1a7a5a0851d9e146aafc31269d84b7f2a220b0ec9b7be3a445",
        "file_push": "fbe46ff4cee349f60c3bb50f25d163a2ee9f74d61e0ca9f21978ebcb12d8d27c",
        "file_push_empty": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]

    /// The line `inspect` must print for a vector. The reference writes JSON with
    /// the same separators, key order and number forms as the Python-dialect writer,
    /// so the line is the vector's own header and content text.
    static func expectedLine(_ vector: Vector) -> String {
        let (header, content) = parts(of: vector.bytes)
        if let digest = binaryDigests[vector.name] {
            return #"{"header": \#(header), "content": {"bytes": \#(content.count), "sha256": "\#(digest)"}}"#
        }
        return #"{"header": \#(header), "content": \#(String(decoding: content, as: UTF8.self))}"#
    }

    @Test("--version prints the version; the help lists the commands in the order a user meets them")
    func versionAndHelpOrder() async throws {
        let version = try await CleverMsgBinary.run(["--version"])
        #expect(version.status == 0, "stderr: \(version.stderr)")
        #expect(version.lines.count == 1)
        #expect(version.lines.first?.split(separator: ".").count == 3, "a semantic version: \(version.text)")
        let help = try await CleverMsgBinary.run(["--help"])
        #expect(help.status == 0, "stderr: \(help.stderr)")
        let subcommands = help.text.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        let listed = subcommands.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        let order = ["demo", "serve", "drone", "swarm", "inspect", "encode", "bench"]
        #expect(listed.filter(order.contains) == order, "help lists: \(listed)")
    }

    @Test("inspect --hex prints one line per vector, headers and contents exact")
    func inspectAllVectors() async throws {
        #expect(Vectors.all.count == 15)
        // Hex text split over lines and spaces: whitespace must be ignored.
        let input = Vectors.all.map { Hex.encode($0.bytes) }.joined(separator: "\n \t")
        let result = try await CleverMsgBinary.run(["inspect", "--hex"], input: Array(input.utf8))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.lines.count == Vectors.all.count)
        for (line, vector) in zip(result.lines, Vectors.all) {
            #expect(line == Self.expectedLine(vector), "vector \(vector.name)")
        }
    }

    @Test("inspect reads raw bytes from a file")
    func inspectRawFile() async throws {
        let bytes = Vectors.all.flatMap(\.bytes)
        let file = try CleverMsgBinary.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await CleverMsgBinary.run(["inspect", file.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.lines == Vectors.all.map(Self.expectedLine))
    }

    @Test("inspect streams a binary frame larger than its read chunk")
    func inspectLargeBinary() async throws {
        var content = [UInt8](repeating: 0, count: 300_000)
        for i in content.indices { content[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8) }
        let file = try CleverMsgBinary.temporaryFile(content)
        defer { try? FileManager.default.removeItem(at: file) }
        let encoded = try await CleverMsgBinary.run(["encode", "file", "--path", "big.bin", file.path])
        #expect(encoded.status == 0, "stderr: \(encoded.stderr)")
        let inspected = try await CleverMsgBinary.run(["inspect"], input: encoded.stdout)
        #expect(inspected.status == 0, "stderr: \(inspected.stderr)")
        let lines = inspected.lines
        try #require(lines.count == 1)
        let value = try JSONParser.parse(lines[0])
        #expect(value["header"]?["content-length"] == .integer(content.count))
        #expect(value["header"]?["filepath"] == "big.bin")
        #expect(value["content"]?["bytes"] == .integer(content.count))
        // Same digest as the library's one-shot summary would give: compare with
        // an independent run over the hex form of the same bytes.
        let hexInspected = try await CleverMsgBinary.run(["inspect", "--hex"], input: Array((Hex.encode(encoded.stdout) + "\n").utf8))
        #expect(hexInspected.lines == lines)
    }

    @Test("encode action equals vector action_args_kwargs")
    func encodeAction() async throws {
        let result = try await CleverMsgBinary.run([
            "encode", "action", "start", "--args", #"[1,"two",3.5,null,true]"#, "--kwargs", #"{"time":"1700000000.5"}"#,
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == Vectors.named("action_args_kwargs").bytes)
    }

    @Test("encode action with no arguments equals vector action_simple, --hex too")
    func encodeActionSimpleHex() async throws {
        let raw = try await CleverMsgBinary.run(["encode", "action", "test"])
        #expect(raw.stdout == Vectors.named("action_simple").bytes)
        let hex = try await CleverMsgBinary.run(["encode", "action", "test", "--hex"])
        #expect(hex.status == 0)
        #expect(hex.text == Hex.encode(Vectors.named("action_simple").bytes) + "\n")
    }

    @Test("encode request equals vectors request_simple and request_kwargs")
    func encodeRequest() async throws {
        let simple = try await CleverMsgBinary.run(["encode", "request", "time", "--id", "0042"])
        #expect(simple.status == 0, "stderr: \(simple.stderr)")
        #expect(simple.stdout == Vectors.named("request_simple").bytes)
        let kwargs = try await CleverMsgBinary.run([
            "encode", "request", "config", "--id", "9999", "--kwargs", #"{"send_configspec": true}"#,
        ])
        #expect(kwargs.stdout == Vectors.named("request_kwargs").bytes)
    }

    @Test("encode response equals vectors response_value and response_dict")
    func encodeResponse() async throws {
        let value = try await CleverMsgBinary.run(["encode", "response", "time", "--id", "0042", "--value", "1700000000.25"])
        #expect(value.status == 0, "stderr: \(value.stderr)")
        #expect(value.stdout == Vectors.named("response_value").bytes)
        let dict = try await CleverMsgBinary.run([
            "encode", "response", "telemetry", "--id", "0100", "--value",
            #"{"battery": [12.1, 0.87], "mode": "OFFBOARD", "armed": false, "pos": null}"#,
        ])
        #expect(dict.stdout == Vectors.named("response_dict").bytes)
    }

    @Test("encode file equals vectors file_push and file_push_empty")
    func encodeFile() async throws {
        let push = Vectors.named("file_push")
        let file = try CleverMsgBinary.temporaryFile(parts(of: push.bytes).content)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await CleverMsgBinary.run(["encode", "file", "--path", "animation.csv", file.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == push.bytes)
        let hex = try await CleverMsgBinary.run(["encode", "file", "--hex", "--path", "animation.csv", file.path])
        #expect(hex.text == Hex.encode(push.bytes) + "\n")

        let empty = try CleverMsgBinary.temporaryFile([])
        defer { try? FileManager.default.removeItem(at: empty) }
        let emptyResult = try await CleverMsgBinary.run(["encode", "file", "--path", "empty.txt", empty.path])
        #expect(emptyResult.stdout == Vectors.named("file_push_empty").bytes)
    }

    @Test("encode | inspect round trip keeps NaN, infinities, big integers and unicode")
    func roundTrip() async throws {
        let args = #"[NaN, Infinity, -Infinity, 123456789012345678901234567890, -1.5e-07, 1, 1.0, "Дрон ✈ \"q\"\n"]"#
        let kwargs = #"{"nested": {"a": [[], {}], "b": null}, "flag": false}"#
        let encoded = try await CleverMsgBinary.run(["encode", "action", "led", "--args", args, "--kwargs", kwargs])
        #expect(encoded.status == 0, "stderr: \(encoded.stderr)")
        let inspected = try await CleverMsgBinary.run(["inspect"], input: encoded.stdout)
        #expect(inspected.status == 0, "stderr: \(inspected.stderr)")
        try #require(inspected.lines.count == 1)
        let line = try JSONParser.parse(inspected.lines[0])
        #expect(line["header"]?["action"] == "led")
        #expect(line["header"]?["message-type"] == "message")
        #expect(line["content"]?["args"] == (try JSONParser.parse(args)))
        #expect(line["content"]?["kwargs"] == (try JSONParser.parse(kwargs)))
        #expect(inspected.lines[0].contains("123456789012345678901234567890"))
        #expect(inspected.lines[0].contains("NaN, Infinity, -Infinity"))

        let request = try await CleverMsgBinary.run(["encode", "request", "config", "--id", "0007", "--args", "[1]", "--hex"])
        let requestLine = try await CleverMsgBinary.run(["inspect", "--hex"], input: request.stdout)
        #expect(
            requestLine.text
                == #"{"header": {"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": 78, "message-type": "request"}, "content": {"requested_value": "config", "request_id": "0007", "args": [1], "kwargs": {}}}"#
                + "\n"
        )
    }

    @Test("a truncated frame prints the frames before it, then an error, and exits 1")
    func inspectTruncated() async throws {
        let good = Vectors.named("action_simple").bytes
        let cut = Array(Vectors.named("request_simple").bytes.dropLast(5))
        let result = try await CleverMsgBinary.run(["inspect"], input: good + cut)
        #expect(result.status == 1)
        #expect(result.lines.count == 2)
        #expect(result.lines.first == Self.expectedLine(Vectors.named("action_simple")))
        let error = try JSONParser.parse(try #require(result.lines.last))
        #expect(error.objectValue?.keys.elementsEqual(["error"]) == true)
        #expect(error["error"]?["code"] == "malformed_frame")
        #expect(error["error"]?["message"]?.stringValue?.contains("ended inside a frame") == true)

        // Cut inside the header, and inside a binary body.
        for bytes in [Array(good.prefix(40)), Array(Vectors.named("file_push").bytes.dropLast(1)), [0x00]] {
            let r = try await CleverMsgBinary.run(["inspect"], input: bytes)
            #expect(r.status == 1)
            #expect(r.lines.last?.hasPrefix(#"{"error": {"code": "malformed_frame", "message": "#) == true)
        }
    }

    @Test("garbage input prints an error line and exits 1")
    func inspectGarbage() async throws {
        let garbage = Array("\u{0}\u{5}hello world".utf8)
        let result = try await CleverMsgBinary.run(["inspect"], input: garbage)
        #expect(result.status == 1)
        #expect(result.lines.count == 1)
        let error = try JSONParser.parse(try #require(result.lines.first))
        #expect(error["error"]?["message"]?.stringValue?.isEmpty == false)

        // A header missing a required key.
        let header = Array(#"{"content-type": "json", "content-length": 2}"#.utf8)
        let missing = [0, UInt8(header.count)] + header + Array("{}".utf8)
        let r2 = try await CleverMsgBinary.run(["inspect"], input: missing)
        #expect(r2.status == 1)
        #expect(r2.lines.last?.contains("byteorder") == true)

        // Invalid hex text, after one good frame.
        let hex = Hex.encode(Vectors.named("action_simple").bytes) + " zz"
        let r3 = try await CleverMsgBinary.run(["inspect", "--hex"], input: Array(hex.utf8))
        #expect(r3.status == 1)
        #expect(r3.lines.count == 2)
        #expect(r3.lines.first == Self.expectedLine(Vectors.named("action_simple")))
        #expect(r3.lines.last?.contains("hex") == true)
    }

    @Test("empty input prints nothing and succeeds")
    func inspectEmpty() async throws {
        let result = try await CleverMsgBinary.run(["inspect"])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
    }

    @Test("bad JSON options are validation errors (exit 64)")
    func encodeValidation() async throws {
        let notArray = try await CleverMsgBinary.run(["encode", "action", "x", "--args", #"{"a": 1}"#])
        #expect(notArray.status == 64)
        #expect(notArray.stderr.contains("--args must be a JSON array"))
        #expect(notArray.stdout.isEmpty)
        let notObject = try await CleverMsgBinary.run(["encode", "request", "x", "--id", "1", "--kwargs", "[1]"])
        #expect(notObject.status == 64)
        #expect(notObject.stderr.contains("--kwargs must be a JSON object"))
        let notJSON = try await CleverMsgBinary.run(["encode", "response", "x", "--id", "1", "--value", "{nope"])
        #expect(notJSON.status == 64)
        #expect(notJSON.stderr.contains("--value is not valid JSON"))
        let missingID = try await CleverMsgBinary.run(["encode", "request", "x"])
        #expect(missingID.status == 64)
    }
}
