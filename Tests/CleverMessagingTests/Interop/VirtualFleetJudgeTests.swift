import CleverMessaging
import Foundation
import Testing

/// The judge station of `Tests/Interop/station.py` (written from DRONE.md: it
/// keys drones by source IP as the reference ground station does, judges every
/// telemetry field by the station's colour rules and the buttons by its
/// enabling rules) against a `swarm` of 50 drones, each from its own loopback
/// address. It walks a preflight check, a config edit, an animation push, a
/// timed start and a land, and fails on any reply the reference station could
/// not unpack.
@Suite("Interop: virtual fleet judged by station.py", .timeLimit(.minutes(4)))
struct VirtualFleetJudgeTests {
    /// The judge's path.
    static let script = Vectors.packageRoot.appendingPathComponent("Tests/Interop/station.py").path
    /// The hash both sides report and expect (the reference's mirror HEAD).
    static let gitVersion = "2062940"

    @Test("the virtual fleet: 50 swarm drones from 127.0.1.1 pass station.py's preflight, config edit, animation push, timed start and land")
    func virtualFleetJudge() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let work = TemporaryDirectory("virtual-fleet-judge")
        defer { work.remove() }
        let count = 50
        let judge = try PythonPeer(
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["python3", Self.script, "--count", "\(count)", "--git-version", Self.gitVersion, "--root", work.file("drones")]
        )
        defer { judge.terminate() }
        let listening = try await judge.waitForLines { $0["listening"] != nil }[0]
        let port = try #require(listening["listening"]?.integerValue)
        let swarm = try PythonPeer(
            executable: binary,
            arguments: [
                "swarm", "--server", "127.0.0.1:\(port)", "--count", "\(count)", "--source", "127.0.1.1",
                "--root", work.file("drones"), "--git-version", Self.gitVersion,
            ]
        )
        defer { swarm.terminate() }
        let ended = await judge.waitForExit(timeout: .seconds(180))
        #expect(ended, "the judge did not finish: \(judge.textLines.suffix(5))")
        _ = await judge.waitForOutputEnd(timeout: .seconds(10))
        _ = await judge.waitForStderr(containing: "\n", timeout: .milliseconds(500))
        #expect(
            judge.exitStatus == 0,
            """
            the judge failed: \(judge.textLines.suffix(3).joined(separator: "\n"))
            \(judge.stderr.prefix(6000))
            swarm: \(swarm.textLines.suffix(5).joined(separator: "\n")) \(swarm.stderr.suffix(2000))
            """
        )
        swarm.sendSignal(SIGINT)
        #expect(await swarm.waitForOutputEnd())
    }
}

/// The judge itself: it passes drones that follow DRONE.md (`Tests/Interop/fake_fleet.py`,
/// Python drones made just for this), and fails naming the drone and the field of broken ones.
@Suite("Interop: station.py judges a fleet", .timeLimit(.minutes(3)))
struct StationJudgeSelfTests {
    static let fleet = Vectors.packageRoot.appendingPathComponent("Tests/Interop/fake_fleet.py").path

    /// Runs the judge against 3 fake drones (`broken`: what they get wrong); returns its status and
    /// stderr (once it holds `finding`, or its output ended).
    static func judge(broken: String?, finding: String = "") async throws -> (status: Int32?, stderr: String) {
        let env = URL(fileURLWithPath: "/usr/bin/env")
        // The judge's wait for the drones and for each reply: seven judges and fleets start at once in a
        // parallel run, and a loaded machine takes its time; a broken drone's finding does not wait it out.
        let judge = try PythonPeer(
            executable: env, arguments: ["python3", VirtualFleetJudgeTests.script, "--count", "3", "--git-version", "2062940", "--timeout", "30"]
        )
        defer { judge.terminate() }
        let listening = try await judge.waitForLines { $0["listening"] != nil }[0]
        let port = try #require(listening["listening"]?.integerValue)
        let fleet = try PythonPeer(
            executable: env, arguments: ["python3", Self.fleet, "--port", "\(port)", "--count", "3"] + (broken.map { ["--break", $0] } ?? [])
        )
        defer { fleet.terminate() }
        #expect(await judge.waitForExit(timeout: .seconds(90)))
        // The last lines may arrive after the exit is seen.
        _ = await judge.waitForOutputEnd(timeout: .seconds(10))
        if !finding.isEmpty { _ = await judge.waitForStderr(containing: finding, timeout: .seconds(5)) }
        return (judge.exitStatus, judge.stderr)
    }

    @Test("drones that follow DRONE.md pass every step")
    func passes() async throws {
        let (status, stderr) = try await Self.judge(broken: nil)
        #expect(status == 0, "\(stderr.prefix(3000))")
    }

    @Test("a broken reply fails the run, naming the drone and the field", arguments: [
        ("telemetry-shape", "fake-1 battery: must be [volts, fraction]"),
        ("position", "fake-2 current_position: must be [x, y, z, yaw, frame_id]"),
        ("config", "fake-3 config: reply is not {config, configspec}"),
        ("no-push", "fake-1 telemetry: 0 pushes"),
        ("load-params", "fake-2 load_params: the reply must be true"),
        ("rename", "fake-3 id: 20 s after the id action no reconnect answered 'fake-3-renamed'"),
    ])
    func fails(_ broken: String, finding: String) async throws {
        let (status, stderr) = try await Self.judge(broken: broken, finding: finding)
        #expect(status == 1)
        #expect(stderr.contains(finding), "\(stderr.prefix(3000))")
    }
}
