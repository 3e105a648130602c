import CleverMessaging
import Foundation
import Testing

/// `clever-msg serve` forgives mistakes: Ctrl-C cancels a command, and every
/// wrong argument gets one error line that names it.
@Suite("CLI: console errors and Ctrl-C", .timeLimit(.minutes(2)))
struct ConsoleForgivenessTests {
    @Test("Ctrl-C cancels the running command and the station keeps running; Ctrl-C twice at the prompt leaves")
    func interruptCancelsTheCommand() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0", "--json"])
        defer { station.terminate() }
        try await station.waitForLines { $0["listening"] != nil }

        station.sendLine("wait 5 20")
        try await station.waitForLines { $0["waiting"] == 5 }
        station.sendSignal(SIGINT)
        try await station.waitForLines { $0["cancelled"] == "wait 5 20" }
        // The cancelled wait prints no result, and the console answers the next command.
        station.sendLine("drones")
        try await station.waitForLines { $0["drones"] != nil }
        #expect(station.lines { $0["wait"] != nil }.isEmpty)
        #expect(station.isRunning)

        // At the prompt the first Ctrl-C only tells how to leave; the second leaves. The console
        // is back at the prompt once it has seen `drones` finish, which it does not print: a Ctrl-C
        // that comes as `drones` is finishing cancels it instead, and a line in between starts over.
        var answered = 1
        while true {
            station.sendSignal(SIGINT)
            let answers = try await station.waitForLines(count: answered) { $0["interrupt"] != nil || $0["cancelled"] == "drones" }
            if answers.last?["interrupt"] != nil { break }
            try #require(answered < 10, "\(station.events)")
            station.sendLine("drones")
            answered += 1
            try await station.waitForLines(count: answered) { $0["drones"] != nil }
        }
        #expect(station.isRunning)
        station.sendSignal(SIGINT)
        #expect(await station.waitForExit(timeout: .seconds(10)), "\(station.events)")
    }

    @Test("Ctrl-C cancels a command, then quit leaves")
    func interruptThenQuit() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0"])
        defer { station.terminate() }
        try await station.waitForText { $0.hasPrefix("ground station listening") }
        station.sendLine("wait 1 60")
        try await station.waitForText { $0.hasPrefix("waiting up to") }
        station.sendSignal(SIGINT)
        try await station.waitForText { $0 == "cancelled: wait 1 60" }
        station.sendLine("quit")
        #expect(await station.waitForExit(timeout: .seconds(10)), "\(station.textLines)")
    }

    /// The lines a console reads, each with the text line it must print.
    static let mistakes: [(line: String, text: String, code: String, drone: String?)] = [
        ("wait -1", "error: N must be a whole number, 0 or more, got -1", "invalid_argument", nil),
        ("wait 1 abc", "error: TIMEOUT must be a number of seconds greater than 0 (at most 31536000), got abc", "invalid_argument", nil),
        ("wait 1 0", "error: TIMEOUT must be a number of seconds greater than 0 (at most 31536000), got 0", "invalid_argument", nil),
        ("wait", "error: usage: wait N [TIMEOUT]", "usage", nil),
        ("wait 1 2 3", "error: usage: wait N [TIMEOUT]", "usage", nil),
        ("send copter-9 takeoff {r}", "error: KWARGS_JSON is not valid JSON: unexpected byte 0x72 at byte 1", "invalid_argument", nil),
        ("send copter-9 takeoff [x]", "error: ARGS_JSON is not valid JSON: unexpected byte 0x78 at byte 1", "invalid_argument", nil),
        ("request copter-9 telemetry [] []", "error: KWARGS_JSON must be a JSON object (the keyword arguments), got []", "invalid_argument", nil),
        ("send copter-9 takeoff", "copter-9: error: unknown drone (never connected)", "unknown", "copter-9"),
        ("request copter-9 telemetry", "copter-9: error: unknown drone (never connected)", "unknown", "copter-9"),
        ("pull copter-9 a b", "copter-9: error: not connected", "not_connected", "copter-9"),
        ("send all takeoff", "error: TARGET all: no drone has connected yet", "invalid_argument", nil),
        ("push copter-9 a", "error: usage: push TARGET LOCAL REMOTE", "usage", nil),
        ("drones now", "error: usage: drones", "usage", nil),
        ("bogus", "error: unknown command bogus (try help)", "unknown_command", nil),
    ]

    @Test("every mistake gets one error line naming what is wrong: text")
    func mistakesAsText() async throws {
        let input = Self.mistakes.map(\.line).joined(separator: "\n") + "\n"
        let result = try await CleverMsgBinary.run(["serve", "--port", "0"], input: Array(input.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        let errors = result.lines.filter { $0.contains("error: ") }
        #expect(errors == Self.mistakes.map(\.text), "\(result.lines)")
    }

    @Test("every mistake gets one error line naming what is wrong: --json")
    func mistakesAsJSON() async throws {
        let input = Self.mistakes.map(\.line).joined(separator: "\n") + "\n"
        let result = try await CleverMsgBinary.run(["serve", "--port", "0", "--json"], input: Array(input.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        let errors = result.lines.compactMap { try? JSONParser.parse($0) }.filter { $0["error"] != nil }
        try #require(errors.count == Self.mistakes.count, "\(result.lines)")
        for (error, mistake) in zip(errors, Self.mistakes) {
            let message = mistake.text.components(separatedBy: "error: ").dropFirst().joined(separator: "error: ")
            var expected: JSONObject = [:]
            if let drone = mistake.drone { expected["id"] = .string(drone) }
            expected["error"] = ["code": .string(mistake.code), "message": .string(message)]
            #expect(error == .object(expected))
        }
    }

    @Test("help lists every command with its arguments")
    func help() async throws {
        let result = try await CleverMsgBinary.run(["serve", "--port", "0"], input: Array("help\n".utf8))
        for usage in ["drones", "wait N [TIMEOUT]", "send [--queue SECONDS] TARGET ACTION [ARGS_JSON] [KWARGS_JSON]",
                      "request [--queue SECONDS] TARGET NAME [ARGS_JSON] [KWARGS_JSON]",
                      "push TARGET LOCAL REMOTE", "pull ID REMOTE LOCAL", "help", "quit"] {
            #expect(result.lines.contains("  " + usage), "\(usage) in \(result.text)")
        }
    }

    @Test("serve --timeout must be a finite number of seconds above 0")
    func timeoutOption() async throws {
        for bad in ["0", "-1", "nan", "inf"] {
            let result = try await CleverMsgBinary.run(["serve", "--port", "0", "--timeout=\(bad)"])
            #expect(result.status != 0)
            #expect(result.stderr.contains("--timeout must be a number of seconds greater than 0"), "\(result.stderr)")
        }
    }

    @Test("drones: one aligned row per drone, in natural order")
    func dronesTable() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0"])
        defer { station.terminate() }
        let listening = try await station.waitForText { $0.hasPrefix("ground station listening on ") }[0]
        let port = try #require(listening.split(separator: ":").last.flatMap { Int($0) })
        let ids = ["copter-10", "copter-2", "copter-100", "copter-1"]
        let drones = try ids.map { id in
            try PythonPeer(executable: binary, arguments: ["drone", "--server", "127.0.0.1:\(port)", "--id", id, "--json"])
        }
        defer { for drone in drones { drone.terminate() } }
        station.sendLine("wait 4 20")
        try await station.waitForText { $0.hasPrefix("4 of 4 drones connected") }
        station.sendLine("drones")
        let rows = try await station.waitForText(count: 4) { $0.hasPrefix("copter-") }
        #expect(rows.map { String($0.prefix { $0 != " " }) } == ["copter-1", "copter-2", "copter-10", "copter-100"])
        // Every column starts at the same place on every row.
        #expect(Set(rows.map { $0.range(of: "127.0.0.1")?.lowerBound.utf16Offset(in: $0) }).count == 1, "\(rows)")
        #expect(Set(rows.map { $0.range(of: "connected")?.lowerBound.utf16Offset(in: $0) }).count == 1, "\(rows)")
        station.sendLine("quit")
        #expect(await station.waitForExit(timeout: .seconds(10)))
    }
}
