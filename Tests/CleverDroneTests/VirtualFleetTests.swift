import CleverDrone
import CleverMessaging
import CleverTestSupport
import Foundation
import Testing

/// A simulated drone on a real loopback link to a ``GroundStation``.
@Suite("Virtual fleet", .timeLimit(.minutes(2)))
struct VirtualFleetTests {
    @Test("a station gets the drone's record pushed and asked, its config, a calibration reply, an animation and the aruco map in the sandbox")
    func endToEnd() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("virtual-fleet-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let sandbox = try DroneSandbox(directory: base + "/copter-1")
        let local = base + "/show.csv"
        try Data("show\n0,0,0,0,0,0,0,0\n1,0,0,0.5,0,0,0,0\n2,0,0,1,0,0,0,0\n3,1,0,1,0,0,0,0\n".utf8).write(to: URL(fileURLWithPath: local))
        let fleet = VirtualFleet()
        let drone = VirtualDrone(id: "copter-1", sandbox: sandbox, gitVersion: "abc1234")
        drone.withModel { $0.calibrationTime = .milliseconds(50) }
        let station = GroundStation(host: "127.0.0.1", port: 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try await station.server.localAddress().port ?? 0
            let client = MessagingClient(host: "127.0.0.1", port: port, registry: fleet.registry,
                                         configuration: ConnectionConfiguration(filePolicy: try sandbox.filePolicy()))
            fleet.add(drone, on: client.connection)
            group.addTask { try await client.run() }
            group.addTask { await fleet.pushTelemetry([client.connection], every: .milliseconds(50)) }
            defer {
                client.shutdown()
                station.shutdown()
            }
            try await station.waitForDrones(1, timeout: .seconds(30))
            let dir = try await station.request("clover_dir", from: "copter-1", as: String.self, timeout: .seconds(5))
            #expect(dir == sandbox.cloverDirectory)
            let record = try await station.request("telemetry", from: "copter-1", as: JSONValue.self, timeout: .seconds(5))
            #expect(record["git_version"] == "abc1234")
            #expect(record["current_position"]?.arrayValue?.count == 5)
            let config = try await station.request("config", arguments: ["send_configspec": true], from: "copter-1", as: JSONValue.self, timeout: .seconds(5))
            #expect(config["configspec"] != nil && config["config"] != nil)
            let calibration = try await station.request("calibrate_gyro", from: "copter-1", as: String.self, timeout: .seconds(5))
            #expect(calibration == "OK")

            let pushed = try await station.pushFile(local, to: "animation.csv")
            #expect(pushed.allSucceeded)
            let aruco = try await station.pushFile(local, to: dir + "/../aruco_pose/map/animation_map.txt")
            #expect(aruco.allSucceeded, "\(aruco.failures)")
            #expect(FileManager.default.fileExists(atPath: sandbox.root + "/catkin_ws/src/clover/aruco_pose/map/animation_map.txt"))
            let after = try await station.request("telemetry", from: "copter-1", as: JSONValue.self, timeout: .seconds(5))
            #expect(after["animation_info"] == ["show", "OK"])

            // The drone pushes its record every 50 ms: the first one that reached the station, or the next to come.
            let updates = station.telemetryUpdates()
            let pushedRecord = if let sample = station.telemetry(of: "copter-1") {
                sample.record
            } else {
                await firstEvent(in: updates, within: .seconds(20)) { $0.droneID == "copter-1" }?.record
            }
            #expect(pushedRecord?["fcu_status"] == "STANDBY")
            group.cancelAll()
        }
    }
}
