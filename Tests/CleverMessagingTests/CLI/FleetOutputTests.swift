import CleverMessaging
import Foundation
import NIOPosix
import Testing

/// What `clever-msg drone`, `swarm` and `serve` print about links by default (no `--verbose`).
@Suite("CLI: link and fleet output", .timeLimit(.minutes(2)))
struct FleetOutputTests {
    /// A loopback port nothing listens on now, for a test that listens on it
    /// later: bound by a server that then stopped.
    static func freedPort() async throws -> Int {
        let probe = MessagingServer(host: "127.0.0.1", port: 0, registry: HandlerRegistry())
        let running = Task { try await probe.run() }
        let port = try #require(try await probe.localAddress().port)
        probe.shutdown()
        try await running.value
        return port
    }

    /// A loopback port nothing listens on, checked by a refused connect, for
    /// clients that retry it for a while. It lies below the ephemeral range: a
    /// port a stopped server had been given there can be given to another
    /// test's server meanwhile (a swarm's drones once found one there), and a
    /// retrying client's own local port can be it (a TCP self-connect).
    static func refusingPort() async throws -> Int {
        for port in [1, 9, 13, 17, 19] {
            let probe = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            guard let probe else { return port }
            try? await probe.close()
        }
        Issue.record("every candidate port has a listener")
        throw CancellationError()
    }

    @Test("drone: says it is connecting, why and for how long it waits before retrying, and when it is connected")
    func droneReportsItsLink() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let port = try await Self.freedPort()
        let drone = try PythonPeer(executable: binary, arguments: ["drone", "--server", "127.0.0.1:\(port)", "--id", "copter-retry"])
        defer { drone.terminate() }
        try await drone.waitForText { $0 == "connecting to 127.0.0.1:\(port)" }
        let retry = try await drone.waitForText { $0.hasPrefix("retrying in ") }
        #expect(retry.contains(/^retrying in \d+\.\d s: connection refused/), "\(retry)")

        let station = GroundStation(host: "127.0.0.1", port: port)
        let serving = Task { try await station.run() }
        try await drone.waitForText { $0 == "connected to 127.0.0.1:\(port)" }
        try await station.waitForDrones(1, timeout: .seconds(30))
        #expect(station.connectedIDs == ["copter-retry"])
        station.shutdown()
        try await serving.value
    }

    @Test("serve: a drone and a swarm drone sharing an id are reported once, in serve's output")
    func serveWarnsAboutASharedID() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0", "--json"])
        let listening = try await station.waitForLines { $0["listening"] != nil }[0]
        let port = try #require(listening["listening"]?.stringValue?.split(separator: ":").last.flatMap { Int($0) })
        let drone = try PythonPeer(executable: binary, arguments: ["drone", "--server", "127.0.0.1:\(port)", "--id", "copter-1"])
        let swarm = try PythonPeer(executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "1"])
        defer {
            drone.terminate()
            swarm.terminate()
            station.terminate()
        }
        let shared = "copter-1 connected from two links"
        #expect(await station.waitForStderr(containing: shared, timeout: .seconds(30)), "stderr: \(station.stderr.suffix(2000))")
        #expect(station.stderr.contains("two drones may share this id"))
        station.sendLine("quit")
        #expect(await station.waitForExit(timeout: .seconds(10)))
        #expect(station.stderr.components(separatedBy: shared).count == 2, "said once: \(station.stderr.suffix(2000))")
    }
}

/// `clever-msg swarm` through a pipe: a progress line at most every second, a summary, no line per drone.
@Suite("CLI: swarm progress and summary", .timeLimit(.minutes(3)))
struct SwarmOutputTests {
    @Test("50 drones: no line per drone, and the output ends with the summary")
    func summaryOfAConnectedSwarm() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        try await GroundStationTests.withStation { station, port in
            let swarm = try PythonPeer(executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "50"])
            defer { swarm.terminate() }
            let summary = "swarm: 50 drones, 50 connected, 0 failed, in "
            try await swarm.waitForText { $0.hasPrefix(summary) }
            try await station.waitForDrones(50, timeout: .seconds(20))
            swarm.sendLine("quit")
            #expect(await swarm.waitForOutputEnd(timeout: .seconds(60)))
            let lines = swarm.textLines
            #expect(lines.last?.hasPrefix(summary) == true, "\(lines)")
            #expect(lines.last?.contains(/in \d+\.\d s$/) == true, "\(lines)")
            #expect(!lines.contains { $0.contains("copter-") }, "\(lines)")
            #expect(!lines.contains { $0.contains("\r") }, "a pipe gets whole lines: \(lines)")
            // The first line, progress lines (at most one a second), the summary, peak RSS, the summary.
            #expect(lines.count < 12, "\(lines)")
        }
    }

    @Test("drones that cannot connect: the summary counts them and groups their reasons")
    func summaryOfFailures() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let port = try await FleetOutputTests.refusingPort()
        let swarm = try PythonPeer(executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "5"])
        defer { swarm.terminate() }
        try await swarm.waitForText { $0.contains("5 failing") }
        swarm.sendLine("quit")
        #expect(await swarm.waitForOutputEnd(timeout: .seconds(60)))
        let lines = swarm.textLines
        let start = try #require(lines.lastIndex { $0.hasPrefix("swarm: 5 drones, 0 connected, 5 failed, in ") }, "\(lines)")
        #expect(Array(lines[(start + 1)...]) == ["  5 failed: connection refused"])
    }
}
