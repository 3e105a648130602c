import CleverMessaging
import Foundation
import Testing

/// `clever-msg swarm` drones are simulated reference drones (DRONE.md): their
/// records, the aruco map beside `clover_dir`, a rename.
@Suite("CLI: swarm drones as reference drones", .timeLimit(.minutes(2)))
struct SwarmDroneModelTests {
    @Test("swarm --root --git-version: records pushed at 1 Hz by default, the aruco map lands in the sandbox, a renamed drone comes back under its new id")
    func referenceDrones() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let work = TemporaryDirectory("swarm-model")
        defer { work.remove() }
        work.write("map.txt", Array("0 0.33 0 0 0\n".utf8))
        try await GroundStationTests.withStation { station, port in
            let swarm = try PythonPeer(
                executable: binary,
                arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "3", "--root", work.file("drones"), "--git-version", "feed123"]
            )
            defer { swarm.terminate() }
            try await station.waitForDrones(3, timeout: .seconds(20))
            #expect(await TelemetryTests.eventually(station) { station.telemetry(of: "copter-2") != nil })
            let record = try #require(station.telemetry(of: "copter-2")?.record)
            #expect(record["git_version"] == "feed123")
            #expect(record["selfcheck"] == "OK")
            #expect(record["animation_info"] == ["demo", "OK"])
            #expect(record["start_position"]?[0] == 1.0, "drones stand a metre apart: \(record)")

            let dir = try #require(station.drones.first { $0.id == "copter-2" }?.cloverDir)
            let pushed = try await station.pushFile(work.file("map.txt"), to: dir + "/../aruco_pose/map/animation_map.txt", drones: ["copter-2"])
            #expect(pushed.allSucceeded, "\(pushed.failures)")
            #expect(work.read("drones/copter-2/catkin_ws/src/clover/aruco_pose/map/animation_map.txt") != nil)

            _ = try await station.send("id", args: [], kwargs: ["new_id": "Renamed-2"], to: ["copter-2"])
            try await station.waitForDrones(3, timeout: .seconds(20))
            #expect(await TelemetryTests.eventually(station) { station.connectedIDs.contains("renamed-2") }, "\(station.connectedIDs)")
        }
    }

    @Test("a timed start arms every drone of a swarm and flies it (OFFBOARD, rising); land brings each down in AUTO.LAND and disarms it")
    func startAndLand() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        try await GroundStationTests.withStation { station, port in
            let swarm = try PythonPeer(
                executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "4", "--telemetry-hz", "10"]
            )
            defer { swarm.terminate() }
            try await station.waitForDrones(4, timeout: .seconds(20))
            let ids = ["copter-1", "copter-2", "copter-3", "copter-4"]
            _ = await station.measureClocks(of: ids)
            // A lead that a loaded parallel run's acknowledgements fit in: a drone that
            // acknowledges after the instant passed is reported, not started late.
            let results = await station.start(
                at: WallClock.now + 5, action: "start", kwargs: [:], targets: ids, acknowledgementTimeout: .seconds(1))
            #expect(results.succeeded == ids, "\(results.map { "\($0.droneID): \($0.result)" })")
            #expect(await TelemetryTests.eventually(station) {
                ids.allSatisfy { id in
                    let record = station.telemetry(of: id)?.record
                    return record?["armed"] == true && record?["mode"] == "OFFBOARD" && (record?["current_position"]?[2]?.doubleValue ?? 0) > 0.3
                }
            })
            _ = try await station.send("land", args: [], kwargs: [:], to: ids)
            #expect(await TelemetryTests.eventually(station) { ids.allSatisfy { station.telemetry(of: $0)?.record["mode"] == "AUTO.LAND" } })
            #expect(await TelemetryTests.eventually(station) {
                ids.allSatisfy { id in
                    let record = station.telemetry(of: id)?.record
                    return record?["armed"] == false && record?["current_position"]?[2] == 0.0 && record?["last_task"] == "No task"
                }
            })
        }
    }
}
