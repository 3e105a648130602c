import CleverMessaging
import NIOPosix
import Testing

extension FleetEndToEndTests {
    /// ``GroundStation/start(at:action:arguments:targets:acknowledgementTimeout:)`` on loopback.
    @Suite("Timed start end to end", .timeLimit(.minutes(1)))
    struct TimedStartEndToEndTests {
        struct Go: Encodable {
            var speed: Int
        }

        @Test("drones with skewed clocks acknowledge and run the handler at the instant on their corrected clocks; a reference drone gets start's time string")
        func acknowledged() async throws {
            let runs = FleetTestKit.Runs()
            let offsets: [String: Double] = ["ahead": 0.25, "behind": -1.2, "exact": 0]
            try await FleetTestKit.withStation { station, port in
                let clients = offsets.map { FleetTestKit.drone($0.key, port: port, offset: .seconds($0.value), runs: runs) }
                    + [FleetTestKit.referenceDrone("reference", port: port, offset: 0.5, runs: runs)]
                try await FleetTestKit.running(clients) {
                    try await station.waitForDrones(4, timeout: .seconds(30))
                    // Far enough ahead that the start reaches every drone before the instant on a loaded machine.
                    let instant = WallClock.now + 1.5
                    let loopLate = Dictionary(uniqueKeysWithValues: zip(offsets.keys, clients.map { FleetTestKit.loopLateness($0.connection.eventLoop, at: instant) }))
                    // A loaded parallel run can take past the default 250 ms to acknowledge; the instant is 1.5 s ahead.
                    let results = try await station.start(
                        at: instant, action: "go", arguments: Go(speed: 3), targets: nil, acknowledgementTimeout: .seconds(1))
                    #expect(results.map(\.droneID) == ["ahead", "behind", "exact", "reference"])
                    #expect(results.allSucceeded)
                    for (id, receipt) in results.values {
                        #expect(receipt.confirmation == (id == "reference" ? .sent : .acknowledged))
                        #expect(receipt.retries == 0)
                        // The instant on the drone's clock: as right as the offset measured.
                        #expect(abs(receipt.droneTime - instant - (offsets[id] ?? 0.5)) <= receipt.clockOffset.uncertainty.inSeconds + 0.001)
                    }
                    let all = await runs.wait(for: 4)
                    // The reference drone had it on arrival, with the instant on its clock as a string.
                    let reference = all.first { $0.id == "reference" }
                    #expect(reference?.kwargs["speed"] == 3)
                    #expect((reference?.clock ?? .infinity) < instant + 1.0)
                    let time = Double(reference?.kwargs["time"]?.stringValue ?? "") ?? 0
                    #expect(abs(time - (results.values.first { $0.droneID == "reference" }?.value.droneTime ?? 0)) < 1e-6)
                    for id in offsets.keys {
                        let ran = all.filter { $0.id == id }
                        #expect(ran.count == 1)
                        guard let run = ran.first else { continue }
                        let late = run.clock - offsets[id]! - instant
                        let uncertainty = results.values.first { $0.droneID == id }?.value.clockOffset.uncertainty
                        FleetTestKit.expectOnTime(id, late: late, loopLate: try await loopLate[id]!.get(), uncertainty: uncertainty)
                        #expect(run.kwargs == ["speed": 3])
                    }
                }
            }
        }

        @Test("a drone that stalls and drops before acknowledging is sent the start again; a gone drone is reported unreachable")
        func retried() async throws {
            let runs = FleetTestKit.Runs()
            let stallGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            try await FleetTestKit.withStation { station, port in
                let staller = FleetTestKit.drone("staller", port: port, offset: .milliseconds(-300), runs: runs, group: stallGroup)
                let steady = FleetTestKit.drone("steady", port: port, offset: .milliseconds(40), runs: runs)
                let gone = FleetTestKit.drone("gone", port: port, offset: .zero, runs: runs)
                try await FleetTestKit.running([staller, steady]) {
                    try await FleetTestKit.running([gone]) {
                        try await station.waitForDrones(3, timeout: .seconds(30))
                    }
                    _ = await station.measureClocks(of: ["staller", "steady"])
                    _ = try await station.send("stall", to: ["staller"])
                    // Time for the stall (0.3 s), the reconnect and a second attempt, with a loaded machine's slack.
                    let instant = WallClock.now + 2.5
                    let loopLate = ["staller": FleetTestKit.loopLateness(staller.connection.eventLoop, at: instant), "steady": FleetTestKit.loopLateness(steady.connection.eventLoop, at: instant)]
                    let results = await station.start(at: instant, action: "go", targets: ["staller", "steady", "gone", "ghost"], acknowledgementTimeout: .milliseconds(100))
                    guard case .success(let receipt)? = results[droneID: "staller"] else {
                        Issue.record("staller: \(String(describing: results[droneID: "staller"]))")
                        return
                    }
                    #expect(receipt.retries >= 1)
                    #expect(results.succeeded == ["staller", "steady"])
                    #expect(results.skipped.map(\.droneID) == ["gone", "ghost"])
                    #expect(results.skipped.map(\.reason) == [.disconnected, .unknown])
                    #expect(WallClock.now >= instant - 0.05, "the gone drone was waited for until shortly before the instant")
                    let all = await runs.wait(for: 2)
                    // A second run would have been due at the same instant as the first: once a
                    // round trip through each drone's event loop is done, it would have been recorded.
                    for id in ["staller", "steady"] { _ = try await station.request("id", from: id, as: String.self) }
                    for (id, offset) in [("staller", -0.3), ("steady", 0.04)] {
                        let ran = runs.all.filter { $0.id == id }
                        #expect(ran.count == 1, "\(id) ran \(ran.count) times")
                        if let run = ran.first {
                            let uncertainty = results.values.first { $0.droneID == id }?.value.clockOffset.uncertainty
                            FleetTestKit.expectOnTime(id, late: run.clock - offset - instant, loopLate: try await loopLate[id]!.get(), uncertainty: uncertainty)
                        }
                    }
                    _ = all
                }
            }
            try await stallGroup.shutdownGracefully()
        }
    }
}
