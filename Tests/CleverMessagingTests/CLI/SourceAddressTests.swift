import CleverMessaging
import Foundation
import Testing

@testable import clever_msg

/// `--source`: each simulated drone dials from its own loopback address, so a
/// station that keys drones by source IP (the reference's) sees one per drone.
@Suite("CLI: drone and swarm --source", .timeLimit(.minutes(2)))
struct SourceAddressTests {
    @Test("swarm --source 127.0.1.1 --count 5: the station sees drone N at 127.0.1.N")
    func swarmDistinctAddresses() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        try await GroundStationTests.withStation { station, port in
            let swarm = try PythonPeer(
                executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "5", "--source", "127.0.1.1"]
            )
            defer { swarm.terminate() }
            try await station.waitForDrones(5, timeout: .seconds(20))
            for n in 1...5 {
                let drone = try #require(station.drones.first { $0.id == "copter-\(n)" })
                #expect(drone.address.hasPrefix("127.0.1.\(n):"), "copter-\(n) at \(drone.address)")
            }
            #expect(Set(station.drones.map { $0.address.split(separator: ":")[0] }).count == 5)
            #expect(swarm.textLines.first?.contains("from 127.0.1.1…127.0.1.5") == true, "\(swarm.textLines)")
            swarm.sendSignal(SIGINT)
            #expect(await swarm.waitForOutputEnd())
        }
    }

    @Test("drone --source 127.0.2.9: the station sees the drone at that address")
    func droneAddress() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        try await GroundStationTests.withStation { station, port in
            let drone = try PythonPeer(
                executable: binary, arguments: ["drone", "--server", "127.0.0.1:\(port)", "--id", "copter-src", "--source", "127.0.2.9"]
            )
            defer { drone.terminate() }
            try await station.waitForDrones(1, timeout: .seconds(20))
            #expect(station.drones.first?.address.hasPrefix("127.0.2.9:") == true, "\(station.drones)")
        }
    }

    @Test("addresses outside 127.0.0.0/8, or a swarm that would leave it, fail with a clear message", arguments: [
        (["drone", "--source", "10.0.0.1"], "must be inside 127.0.0.0/8"),
        (["drone", "--source", "localhost"], "expected a dotted IPv4 loopback address"),
        (["swarm", "--source", "127.0.0.256"], "expected a dotted IPv4 loopback address"),
        (["swarm", "--source", "127.255.255.250", "--count", "10"], "beyond 127.255.255.254"),
        (["swarm", "--source", "128.0.0.1"], "must be inside 127.0.0.0/8"),
    ])
    func invalid(_ arguments: [String], message: String) async throws {
        let result = try await CleverMsgBinary.run(arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test("address arithmetic: drone N of a swarm is the first address plus N - 1, across octets")
    func arithmetic() throws {
        let first = try SourceAddress("127.0.1.250")
        #expect(try first.advanced(by: 9).description == "127.0.2.3")
        #expect(try SourceAddress("127.0.0.1").advanced(by: 0).description == "127.0.0.1")
        #expect(throws: (any Error).self) { try SourceAddress("127.255.255.255") }
        #expect(throws: (any Error).self) { try SourceAddress("127.0.0.0") }
        #expect(throws: (any Error).self) { try SourceAddress("127.0.0") }
        #expect(throws: (any Error).self) { try SourceAddress("127.0.0.1 ") }
    }
}

/// `swarm` runs until signalled, whatever its standard input does.
@Suite("CLI: swarm stops on a signal", .timeLimit(.minutes(2)))
struct SwarmSignalTests {
    @Test("standard input closed: the swarm keeps running; SIGTERM then stops it with its summary", arguments: [SIGTERM, SIGINT])
    func runsUntilSignalled(_ signal: Int32) async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        try await GroundStationTests.withStation { station, port in
            let swarm = try PythonPeer(executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "3"])
            defer { swarm.terminate() }
            try await station.waitForDrones(3, timeout: .seconds(20))
            swarm.closeInput()
            // Real time: a swarm that stopped on end of input would be gone well within this.
            #expect(await !swarm.waitForExit(timeout: .milliseconds(700)), "the swarm stopped when its input ended")
            #expect(station.connectedCount == 3)
            swarm.sendSignal(signal)
            // A loaded parallel test run can hold a stopping swarm for many seconds: the deadline only bounds a broken one.
            #expect(await swarm.waitForOutputEnd(timeout: .seconds(60)))
            let lines = swarm.textLines
            #expect(lines.contains { $0.hasPrefix("peak RSS ") }, "\(lines)")
            #expect(lines.last?.hasPrefix("swarm: 3 drones, 3 connected, 0 failed, in ") == true, "\(lines)")
        }
    }

    @Test("the progress line sums up reconnects and actions instead of a line per drone")
    func summaryLine() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        try await GroundStationTests.withStation { station, port in
            let swarm = try PythonPeer(executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "4"])
            defer { swarm.terminate() }
            try await station.waitForDrones(4, timeout: .seconds(20))
            _ = try await station.send("led_test", to: station.connectedIDs)
            try await swarm.waitForText { $0.hasPrefix("swarm: 4/4 connected") && $0.contains("4 actions") }
            try #require(station.connection(for: "copter-2")).dropLink()
            try await swarm.waitForText { $0.hasPrefix("swarm: 4/4 connected, 1 reconnects") }
            swarm.sendSignal(SIGINT)
            #expect(await swarm.waitForOutputEnd())
            #expect(!swarm.textLines.contains { $0.contains("copter-") }, "\(swarm.textLines)")
        }
    }
}
