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
            // Each drone reports its own directory.
            #expect(station.drones.first { $0.id == "copter-7" }?.cloverDir == work.file("drones/copter-7"))
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
            #expect(try await TelemetryTests.eventually { station.latestTelemetry.count == 30 && station.latestTelemetry.allSatisfy { $0.count >= 3 } })
            let sample = try #require(station.telemetry(of: "copter-3"))
            #expect(sample.record["fcu_status"] == "STANDBY")
            #expect(sample.record["time"]?.doubleValue != nil)
            #expect(sample.age < .seconds(2))
        }
    }
}
