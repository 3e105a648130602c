import CleverMessaging
import Foundation
import Testing

/// `clever-msg serve` driven through a pipe, with Swift drones: `send all` and
/// `request all` name every drone they did not reach, and sum up.
@Suite("CLI: console reports skipped drones", .timeLimit(.minutes(2)))
struct ConsoleSkipTests {
    @Test("a dropped drone: a line per skipped drone and a summary, for send and request, with and without --queue")
    func skippedDrones() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0"])
        defer { station.terminate() }
        let listening = try await station.waitForText(count: 1) { $0.hasPrefix("ground station listening on ") }[0]
        let port = try #require(listening.split(separator: ":").last.flatMap { Int($0) })
        let (fills, sink) = AsyncStream<(String, GroundStationAPITests.LedFill)>.makeStream()
        let drones = ["copter-1", "copter-2", "copter-7"].map { GroundStationAPITests.drone($0, port: port, fills: sink) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for drone in drones { group.addTask { try await drone.run() } }
            station.sendLine("wait 3 20")
            try await station.waitForText(count: 1) { $0 == "3 of 3 drones connected" }
            // A link replaced while connecting (on a loaded machine) says so too: wait for one more.
            let gone = station.textLines.filter { $0 == "- copter-7 disconnected" }.count
            drones[2].shutdown()
            try await station.waitForText(count: gone + 1) { $0 == "- copter-7 disconnected" }

            station.sendLine("send all land")
            try await station.waitForText(count: 1) { $0 == "sent to 2 of 3; 1 disconnected: copter-7" }
            let sent = station.textLines.filter { $0.hasSuffix(": sent land") }
            #expect(sent == ["copter-1: sent land", "copter-2: sent land"], "\(station.textLines)")
            #expect(await GroundStationAPITests.take(2, from: fills).keys.sorted() == ["copter-1", "copter-2"])
            #expect(station.textLines.filter { $0 == "copter-7: error: disconnected" }.count == 1)

            station.sendLine("request all clover_dir")
            try await station.waitForText(count: 1) { $0 == "answered 2 of 3; 1 disconnected: copter-7" }
            #expect(station.textLines.contains(#"copter-2: "/home/pi""#))
            #expect(station.textLines.filter { $0 == "copter-7: error: disconnected" }.count == 2)

            station.sendLine("send --queue 0.05 copter-7,ghost land")
            try await station.waitForText(count: 1) { $0 == "sent to 0 of 2; 1 disconnected: copter-7; 1 unknown: ghost" }
            #expect(station.textLines.contains("ghost: error: unknown drone (never connected)"))

            // push too: the drones here keep no files, so only the dropped one's reason is certain.
            let work = TemporaryDirectory("console-skips")
            defer { work.remove() }
            work.write("show.csv", Array("frame,x\n".utf8))
            station.sendLine("push all \(work.file("show.csv")) show.csv")
            try await station.waitForText(count: 1) { $0.hasPrefix("pushed to 0 of 3; 1 disconnected: copter-7;") }
            #expect(station.textLines.filter { $0 == "copter-7: error: disconnected" }.count == 4)

            station.sendLine("send --queue")
            try await station.waitForText(count: 1) { $0.hasPrefix("error: usage: send [--queue SECONDS] TARGET") }

            station.sendLine("quit")
            #expect(await station.waitForExit(timeout: .seconds(10)))
            for drone in drones { drone.shutdown() }
            try await group.waitForAll()
        }
    }

    @Test("--json: the skipped drone's error object and the summary object")
    func skippedDronesAsJSON() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0", "--json"])
        defer { station.terminate() }
        let listening = try await station.waitForLines { $0["listening"] != nil }[0]
        let port = try #require(listening["listening"]?.stringValue?.split(separator: ":").last.flatMap { Int($0) })
        let drones = ["copter-1", "copter-7"].map { GroundStationTests.drone($0, port: port) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for drone in drones { group.addTask { try await drone.run() } }
            station.sendLine("wait 2 20")
            #expect(try await station.waitForLines { $0["wait"] != nil }[0]["ok"] == true)
            // A link replaced while connecting (on a loaded machine) says so too: wait for one more.
            let gone = station.events("disconnected") { $0["id"]?.stringValue == "copter-7" }.count
            drones[1].shutdown()
            try await station.waitFor("disconnected", count: gone + 1) { $0["id"]?.stringValue == "copter-7" }

            station.sendLine("request --queue 0.05 all clover_dir")
            let summary = try await station.waitForLines { $0["summary"] != nil }[0]["summary"]
            #expect(summary == [
                "command": "request", "name": "clover_dir", "reached": 1, "total": 2, "skipped": ["disconnected": ["copter-7"]],
            ])
            let skipped = try await station.waitForLines { $0["id"] == "copter-7" && $0["error"] != nil }[0]
            #expect(skipped["error"] == ["code": "disconnected", "message": "disconnected"])
            #expect(station.lines { $0["queue"] != nil }.count == 1)

            station.sendLine("quit")
            #expect(await station.waitForExit(timeout: .seconds(10)))
            for drone in drones { drone.shutdown() }
            try await group.waitForAll()
        }
    }
}
