import CleverDrone
import CleverMessaging
import Foundation
import Testing

/// The sandbox's layout and the file policy confining a drone to it.
@Suite("Drone sandbox")
struct DroneSandboxTests {
    @Test("clover_dir is inside the sandbox; the aruco map path beside it is accepted, paths out of the sandbox are not")
    func confinement() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("drone-sandbox-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let sandbox = try DroneSandbox(directory: base + "/copter-1")
        #expect(sandbox.cloverDirectory.hasPrefix(sandbox.root + "/"))
        #expect(FileManager.default.fileExists(atPath: sandbox.cloverDirectory))
        let policy = try sandbox.filePolicy()
        let aruco = sandbox.cloverDirectory + "/../aruco_pose/map/animation_map.txt"
        #expect(throws: Never.self) { _ = try policy.resolveForWriting(aruco) }
        #expect(throws: FilePolicyError.self) { _ = try policy.resolveForWriting("../copter-2/x.bin") }
        #expect(throws: FilePolicyError.self) { _ = try policy.resolveForWriting(sandbox.root + "/../copter-2/x.bin") }
        #expect(throws: FilePolicyError.self) { _ = try policy.resolveForWriting("a/..") }
        #expect(throws: Never.self) { _ = try policy.resolveForWriting("animation.csv") }
        // The default policy still refuses every `..`.
        let strict = try FilePolicy(allowedRoots: [sandbox.root])
        #expect(throws: FilePolicyError.self) { _ = try strict.resolveForWriting(aruco) }
    }

    @Test("a new drone seeds its sandbox with the demo animation and its config file")
    func seeding() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("drone-seed-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let sandbox = try DroneSandbox(directory: base)
        let drone = VirtualDrone(id: "copter-1", sandbox: sandbox, gitVersion: "abc")
        #expect(sandbox.read(sandbox.animationPath) == DemoAnimation.text)
        #expect(sandbox.read(sandbox.configPath)?.contains("[ANIMATION]") == true)
        #expect(drone.telemetry(at: 1_700_000_000)["animation_info"] == ["demo", "OK"])
    }
}
