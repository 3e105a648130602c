import CleverMessaging
import Foundation
import Testing

/// `clock` and `start-at` in the console, against `clever-msg drone --clock-offset` and
/// `clever-msg swarm --clock-offset-spread` processes.
@Suite("CLI: clock offsets and timed start", .timeLimit(.minutes(2)))
struct ConsoleClockTests {
    @Test("clock reports each skewed drone within 1 ms; start-at runs each drone's handler at the instant on its own clock")
    func clockAndStart() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0", "--json"])
        defer { station.terminate() }
        let listening = try await station.waitForLines { $0["listening"] != nil }[0]
        let port = try #require(listening["listening"]?.stringValue?.split(separator: ":").last.flatMap { Int($0) })
        let offsets = ["ahead": 0.25, "behind": -1.2]
        let drones = try offsets.map { id, offset in
            try PythonPeer(executable: binary, arguments: ["drone", "--server", "127.0.0.1:\(port)", "--id", id, "--clock-offset=\(offset)", "--json"])
        }
        defer { for drone in drones { drone.terminate() } }
        let swarm = try PythonPeer(executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "3", "--id-prefix", "s", "--clock-offset-spread", "2", "--json"])
        defer { swarm.terminate() }

        station.sendLine("wait 5 20")
        #expect(try await station.waitForLines { $0["wait"] != nil }[0]["ok"] == true)

        station.sendLine("clock ahead,behind")
        let lines = try await station.waitForLines(count: 2) { $0["offset_ms"] != nil }
        for line in lines {
            let id = try #require(line["id"]?.stringValue)
            let measured = try #require(line["offset_ms"]?.doubleValue)
            let uncertainty = try #require(line["uncertainty_ms"]?.doubleValue)
            // Within 1 ms beyond its uncertainty (a few microseconds on an idle loopback).
            #expect(abs(measured - offsets[id]! * 1000) < uncertainty + 1, "\(id): \(measured) ± \(uncertainty) ms")
            #expect(line["method"] == "exchange")
            #expect(abs((line["rtt_ms"]?.doubleValue ?? 0) - 2 * uncertainty) < 0.01)
        }
        try await station.waitForLines { $0["summary"]?["command"] == "clock" }

        // Separate processes on a machine that a parallel test run loads can be late by tens of
        // milliseconds: the bound checks a run at the instant, not on arrival (1.5 s before it).
        // The precision (a spread of a few ms over 1,000 drones) is measured by hand on a quiet machine.
        let bound = 250.0
        station.sendLine(#"start-at 1.5 go {"speed": 2} all"#)
        let acknowledged = try await station.waitForLines(count: 5) { $0["confirmation"] == "acknowledged" }
        #expect(acknowledged.allSatisfy { $0["retries"]?.integerValue != nil })
        let summary = try await station.waitForLines { $0["summary"]?["command"] == "start-at" }[0]
        #expect(summary["summary"]?["reached"] == 5)
        for drone in drones {
            let started = try await drone.waitForLines { $0["started"] == "go" }[0]
            let late = try #require(started["late_ms"]?.doubleValue)
            #expect(late > -1 && late < bound, "\(started)")
        }
        let swarmStarts = try await swarm.waitForLines(count: 3) { $0["started"] == "go" }
        #expect(swarmStarts.allSatisfy { ($0["late_ms"]?.doubleValue ?? 99) > -1 && ($0["late_ms"]?.doubleValue ?? 99) < bound }, "\(swarmStarts)")
        let spread = try await swarm.waitForLines { $0["timed_start"] == "go" }[0]
        #expect((spread["spread_ms"]?.doubleValue ?? 99) < bound)
        // The swarm's clocks differ: their instants on their own clocks do too.
        #expect(Set(swarmStarts.compactMap { $0["scheduled_at"]?.doubleValue }).count == 3)

        station.sendLine("quit")
        #expect(await station.waitForExit(timeout: .seconds(10)))
    }
}
