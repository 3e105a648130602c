import CleverMessaging
import Foundation
import Testing

/// `clever-msg swarm --root DIR`: each simulated drone keeps its files in DIR/ID;
/// a file pushed by the station to the whole swarm lands, verified, in every one.
@Suite("CLI: files to a swarm", .timeLimit(.minutes(2)))
struct SwarmFilesTests {
    @Test("a 10 MiB file reaches 200 drones of one swarm --root process, every copy verified on disk")
    func tenMebibytesToTwoHundredDrones() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let work = TemporaryDirectory("swarm-files")
        defer { work.remove() }
        let bytes = sampleBytes(count: 10 << 20)
        work.write("show.bin", bytes)
        let count = 200
        try await GroundStationTests.withStation { station, port in
            let swarm = try PythonPeer(
                executable: binary,
                arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "\(count)", "--root", work.file("drones")]
            )
            defer { swarm.terminate() }
            try await station.waitForDrones(count, timeout: .seconds(30))
            // Each drone reports the Clover package of its own sandbox.
            #expect(station.drones.first { $0.id == "copter-7" }?.cloverDir == work.file("drones/copter-7") + "/catkin_ws/src/clover/clover")
            let results = try await station.pushFile(work.file("show.bin"), to: "animations/show.bin")
            #expect(results.count == count)
            #expect(results.allSucceeded, "\(results.failures.prefix(5))")
            let digest = FileTransferTests.sha256(bytes)
            #expect(results.values.allSatisfy { $0.value.delivery == .acknowledged && $0.value.sha256 == digest })
            let expected = Data(bytes)
            for n in 1...count {
                let copy = FileManager.default.contents(atPath: work.file("drones/copter-\(n)/animations/show.bin"))
                #expect(copy == expected, "copter-\(n)")
            }
            // A drone's files stay in its own directory: a path out of it is refused.
            let outside = try await station.pushFile(work.file("show.bin"), to: "../copter-2/x.bin", drones: ["copter-1"])
            guard case .failure(.remote(let refusal))? = outside[droneID: "copter-1"] else {
                Issue.record("copter-1: \(String(describing: outside[droneID: "copter-1"]))")
                return
            }
            #expect(refusal.code == RemoteError.Code.fileRefused)
            #expect(!FileManager.default.fileExists(atPath: work.file("drones/copter-2/x.bin")))
        }
    }

    @Test("swarm --telemetry-hz: every drone pushes its record; the station keeps the latest of each")
    func telemetry() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        try await GroundStationTests.withStation { station, port in
            let swarm = try PythonPeer(
                executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "30", "--telemetry-hz", "20"]
            )
            defer { swarm.terminate() }
            try await station.waitForDrones(30, timeout: .seconds(20))
            #expect(await TelemetryTests.eventually(station) { station.latestTelemetry.count == 30 && station.latestTelemetry.allSatisfy { $0.count >= 3 } })
            let sample = try #require(station.telemetry(of: "copter-3"))
            #expect(sample.record["fcu_status"] == "STANDBY")
            #expect(sample.record["time_delta"]?.doubleValue != nil)
            #expect(sample.age < .seconds(2))
        }
    }

    @Test("console push to a list and to all: every drone's copy on disk, one progress line for the fleet")
    func consolePush() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let work = TemporaryDirectory("console-fleet-push")
        defer { work.remove() }
        let bytes = sampleBytes(count: 3 << 20)
        work.write("show.bin", bytes)
        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0"])
        defer { station.terminate() }
        let listening = try await station.waitForText { $0.hasPrefix("ground station listening on ") }
        let port = try #require(listening.split(separator: ":").last.flatMap { Int($0) })
        let swarm = try PythonPeer(
            executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "6", "--root", work.file("drones")]
        )
        defer { swarm.terminate() }
        station.sendLine("wait 6 20")
        try await station.waitForText { $0 == "6 of 6 drones connected" }

        station.sendLine("push copter-2,copter-5,ghost \(work.file("show.bin")) list.bin")
        try await station.waitForText { $0 == "pushed to 2 of 3; 1 unknown: ghost" }
        #expect(station.textLines.contains("copter-5: pushed \(bytes.count) bytes to list.bin (acknowledged)"))
        for n in [2, 5] { #expect(work.read("drones/copter-\(n)/list.bin") == bytes) }
        #expect(work.read("drones/copter-1/list.bin") == nil)

        station.sendLine("push all \(work.file("show.bin")) shows/all.bin")
        try await station.waitForText { $0 == "pushed to 6 of 6" }
        for n in 1...6 { #expect(work.read("drones/copter-\(n)/shows/all.bin") == bytes, "copter-\(n)") }
        // Through a pipe the fleet's line is printed every 10 % and when every drone is done.
        #expect(await station.waitForStderr(containing: "6/6 drones done"), "\(station.stderr.suffix(1000))")
        station.sendLine("quit")
        #expect(await station.waitForExit(timeout: .seconds(10)))
    }

    @Test("drone --telemetry-hz: the drone pushes its record at the rate asked")
    func droneTelemetry() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        try await GroundStationTests.withStation { station, port in
            let drone = try PythonPeer(
                executable: binary, arguments: ["drone", "--server", "127.0.0.1:\(port)", "--id", "copter-t", "--telemetry-hz", "20"]
            )
            defer { drone.terminate() }
            try await station.waitForDrones(1, timeout: .seconds(20))
            #expect(await TelemetryTests.eventually(station) { (station.telemetry(of: "copter-t")?.count ?? 0) >= 5 })
            #expect(station.telemetry(of: "copter-t")?.record["mode"] == "POSCTL")
        }
    }
}
