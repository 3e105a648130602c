import CleverMessaging
import NIOCore
import Testing

@testable import clever_msg

/// The console's small parsing and formatting types.
@Suite("CLI: console parsing and formatting")
struct ConsoleFormattingTests {
    @Test("natural order: numbers in ids compare as numbers")
    func naturalOrder() {
        let ids = ["copter-100", "copter-10", "copter-2", "copter-1", "alpha", "copter-010", "copter-9b", "copter-9a"]
        #expect(ids.sorted(by: NaturalOrder.areInIncreasingOrder)
            == ["alpha", "copter-1", "copter-2", "copter-9a", "copter-9b", "copter-10", "copter-010", "copter-100"])
        #expect(NaturalOrder.compare("a", "a") == 0)
        #expect(NaturalOrder.compare("a2", "a10") < 0)
        #expect(NaturalOrder.compare("a10", "a2") > 0)
        #expect(NaturalOrder.compare("a", "a1") < 0)
        #expect(NaturalOrder.compare("x99999999999999999999999", "x100000000000000000000000") < 0)
    }

    @Test("text table: columns padded to the widest cell, no trailing spaces")
    func textTable() {
        let table = TextTable([["copter-1", "127.0.0.1:5", "connected"], ["copter-100", "10.0.0.1:50000", "disconnected"], ["x"]])
        #expect(table.columnWidths == [10, 14, 12])
        #expect(table.lines == [
            "copter-1    127.0.0.1:5     connected",
            "copter-100  10.0.0.1:50000  disconnected",
            "x",
        ])
        #expect(TextTable().lines == [])
    }

    @Test("numbers: counts are whole and not negative, timeouts finite and positive; errors name the argument")
    func numbers() throws {
        #expect(try ConsoleArguments.count("0", name: "N") == 0)
        #expect(try ConsoleArguments.count("12", name: "N") == 12)
        for bad in ["-1", "abc", "1.5", ""] {
            #expect(throws: ConsoleError.invalidArgument("N must be a whole number, 0 or more, got \(bad)")) {
                try ConsoleArguments.count(bad, name: "N")
            }
        }
        #expect(try ConsoleArguments.seconds("1.5", name: "TIMEOUT") == .milliseconds(1500))
        for bad in ["abc", "0", "-3", "nan", "inf", "1e30"] {
            #expect(throws: ConsoleError.self) { try ConsoleArguments.seconds(bad, name: "TIMEOUT") }
        }
        #expect(throws: ConsoleError.invalidArgument("TIMEOUT must be a number of seconds greater than 0 (at most 31536000), got abc")) {
            try ConsoleArguments.seconds("abc", name: "TIMEOUT")
        }
    }

    @Test("send and request arguments: [ARGS_JSON] [KWARGS_JSON]; errors name the argument")
    func messageArguments() throws {
        #expect(ConsoleArguments.splitJSONValues(#" [1, "a]b"] {"k": "}"}  "#) == [#"[1, "a]b"]"#, #"{"k": "}"}"#])
        #expect(ConsoleArguments.splitJSONValues("[1,[2]]{}") == ["[1,[2]]", "{}"])
        #expect(ConsoleArguments.splitJSONValues("") == [])
        let empty = try ConsoleArguments.messageArguments("")
        #expect(empty.args.isEmpty && empty.kwargs.isEmpty)
        let both = try ConsoleArguments.messageArguments(#"[1, "two"] {"height": 1.5}"#)
        #expect(both.args == [1, "two"])
        #expect(both.kwargs == ["height": 1.5])
        let kwargsOnly = try ConsoleArguments.messageArguments(#"{"height": 1.5}"#)
        #expect(kwargsOnly.args.isEmpty && kwargsOnly.kwargs == ["height": 1.5])
        let argsOnly = try ConsoleArguments.messageArguments("[true]")
        #expect(argsOnly.args == [true] && argsOnly.kwargs.isEmpty)

        #expect(throws: ConsoleError.invalidArgument("KWARGS_JSON is not valid JSON: unexpected byte 0x72 at byte 1")) {
            try ConsoleArguments.messageArguments("{r}")
        }
        #expect(throws: ConsoleError.invalidArgument("ARGS_JSON is not valid JSON: unexpected byte 0x78 at byte 1")) {
            try ConsoleArguments.messageArguments("[x] {}")
        }
        #expect(throws: ConsoleError.invalidArgument("KWARGS_JSON must be a JSON object (the keyword arguments), got [2]")) {
            try ConsoleArguments.messageArguments("[1] [2]")
        }
        #expect(throws: ConsoleError.invalidArgument("ARGS_JSON must be a JSON array (the positional arguments), got 5")) {
            try ConsoleArguments.messageArguments("5")
        }
        #expect(throws: ConsoleError.self) { try ConsoleArguments.messageArguments("[] {} {}") }
    }

    @Test("one error format: error: / ID: error: as text, {id, error: {code, message}} as JSON")
    func errorReports() {
        let general = ErrorReport(ConsoleError.invalidArgument("N must be a whole number, 0 or more, got -1"))
        #expect(general.text == "error: N must be a whole number, 0 or more, got -1")
        #expect(general.json == ["error": ["code": "invalid_argument", "message": "N must be a whole number, 0 or more, got -1"]])

        let drone = ErrorReport(MessagingError.notConnected, drone: "copter-9")
        #expect(drone.text == "copter-9: error: not connected")
        #expect(JSONValue.object(drone.json).description == #"{"id": "copter-9", "error": {"code": "not_connected", "message": "not connected"}}"#)

        let file = ErrorReport(MessagingError.fileIO(operation: "open", path: "nope.txt", errno: 2), drone: "copter-9")
        #expect(file.text == "copter-9: error: cannot open nope.txt: No such file or directory")
        #expect(file.code == "file_io")

        let system = ErrorReport(IOError(errnoCode: 13, reason: "open"))
        #expect(system.text == "error: Permission denied")

        let refused = ErrorReport(MessagingError.remote(RemoteError(code: "file_refused", message: FilePolicyError.notConfigured.description)))
        #expect(refused.message.hasSuffix("(the drone was started without --root)"))
        #expect(ErrorReport(CancellationError()).code == "cancelled")
    }

    @Test("help lists every command with its arguments")
    func help() {
        let help = ConsoleCommand.help
        for command in ConsoleCommand.all {
            #expect(help.contains("\n  \(command.usage)\n      \(command.summary)\n"), "\(command.usage)")
        }
        #expect(help.contains("send [--queue SECONDS] TARGET ACTION [ARGS_JSON] [KWARGS_JSON]"))
        #expect(help.contains("request [--queue SECONDS] TARGET NAME [ARGS_JSON] [KWARGS_JSON]"))
    }
}
