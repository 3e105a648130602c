import CleverMessaging
import Foundation
import Testing

/// `clever-msg serve` driven through a pipe against `clever-msg drone` processes.
@Suite("CLI: ground-station console", .timeLimit(.minutes(2)))
struct ConsoleTests {
    @Test("serve + 2 drones: wait, drones, send, request, push, pull, quit")
    func console() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let work = TemporaryDirectory("console")
        defer { work.remove() }
        work.write("station/show.csv", Array("frame,x\n0,1\n".utf8))
        for id in ["alpha", "bravo"] { try FileManager.default.createDirectory(atPath: work.file(id), withIntermediateDirectories: true) }

        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0", "--json", "--root", work.file("station")])
        let listening = try await station.waitForLines { $0["listening"] != nil }[0]
        let port = try #require(listening["listening"]?.stringValue?.split(separator: ":").last.flatMap { Int($0) })
        let drones = try ["alpha", "bravo"].map { id in
            try PythonPeer(executable: binary, arguments: ["drone", "--server", "127.0.0.1:\(port)", "--id", id, "--root", work.file(id), "--json"])
        }
        defer { for drone in drones { drone.sendLine("") } }

        station.sendLine("wait 2 20")
        let wait = try await station.waitForLines { $0["wait"] != nil }[0]
        #expect(wait["ok"] == true)

        station.sendLine("drones")
        let listed = try await station.waitForLines(count: 2) { $0["connected"] == true && $0["address"] != nil }
        #expect(Set(listed.compactMap { $0["id"]?.stringValue }) == ["alpha", "bravo"])

        station.sendLine(#"send all takeoff {"height": 1.5}"#)
        for drone in drones {
            let action = try await drone.waitForLines { $0["action"] == "takeoff" }[0]
            #expect(action["kwargs"] == ["height": 1.5])
        }

        // Positional arguments, then keyword arguments.
        station.sendLine(#"send alpha goto [1, "two", 3.5] {"yaw": 0}"#)
        let goto = try await drones[0].waitForLines { $0["action"] == "goto" }[0]
        #expect(goto["args"] == [1, "two", 3.5])
        #expect(goto["kwargs"] == ["yaw": 0])
        try await station.waitForLines { $0["sent"] == "goto" }

        station.sendLine("request alpha,bravo telemetry")
        let replies = try await station.waitForLines(count: 2) { $0["value"]?["mode"] == "OFFBOARD" }
        #expect(Set(replies.compactMap { $0["id"]?.stringValue }) == ["alpha", "bravo"])

        station.sendLine("request all no_such_value")
        let errors = try await station.waitForLines(count: 2) { $0["error"]?["code"] == "remote" }
        #expect(errors.allSatisfy { $0["error"]?["message"]?.stringValue?.contains("unknown_request") == true })
        #expect(Set(errors.compactMap { $0["id"]?.stringValue }) == ["alpha", "bravo"])

        // A local file that is not there: the system's words, not an errno number.
        station.sendLine("push bravo \(work.file("station/nope.csv")) shows/nope.csv")
        let missing = try await station.waitForLines { $0["error"]?["code"] == "file_io" }[0]
        #expect(missing["id"] == "bravo")
        #expect(missing["error"]?["message"] == .string("cannot open \(work.file("station/nope.csv")): No such file or directory"))

        station.sendLine("push bravo \(work.file("station/show.csv")) shows/show.csv")
        try await station.waitForLines { $0["pushed"] == "shows/show.csv" }
        #expect(work.read("bravo/shows/show.csv") == Array("frame,x\n0,1\n".utf8))

        station.sendLine("pull bravo shows/show.csv \(work.file("station/back.csv"))")
        try await station.waitForLines { $0["pulled"] == "shows/show.csv" }
        #expect(work.read("station/back.csv") == Array("frame,x\n0,1\n".utf8))

        station.sendLine("bogus")
        try await station.waitForLines { $0["error"]?["message"] == "unknown command bogus (try help)" }

        station.sendLine("quit")
        #expect(await station.waitForExit(timeout: .seconds(10)))
        for drone in drones { drone.terminate() }
    }

    @Test("on a terminal the console edits lines: arrows, history, Ctrl-U/A/E/W, Delete, Backspace")
    func lineEditingOnATerminal() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let script = Vectors.packageRoot.appendingPathComponent("Tests/Interop/console_pty.py").path
        let output = try await ChildProcess.run(try PythonInterop.findPython(), [script, binary.path])
        let report = try JSONParser.parse(Array(output.stdout))
        let lines = report["lines"]?.arrayValue ?? []
        // Five edited lines that each come out as "drones", then "quit" typed with corrections.
        #expect(lines.filter { $0["drones"] != nil }.count == 5, "\(report["raw"] ?? .null)")
        #expect(lines.allSatisfy { $0["error"] == nil }, "\(lines)")
        #expect(report["exit"] == 0)
    }
}
