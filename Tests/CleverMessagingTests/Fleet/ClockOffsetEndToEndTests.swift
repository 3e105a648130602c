import CleverMessaging
import Testing

extension FleetEndToEndTests {
    /// A station measuring drones' clocks on loopback: drones of this library through
    /// `x-clever-time`, a reference-style drone through `time`.
    @Suite("Clock offsets end to end", .timeLimit(.minutes(1)))
    struct ClockOffsetEndToEndTests {
        static let offsets: [(String, Double)] = [("ahead", 0.25), ("behind", -1.2), ("exact", 0)]

        @Test("drones at +250 ms, -1200 ms and 0, and a reference drone at +500 ms, are each measured within 1 ms")
        func measured() async throws {
            let runs = FleetTestKit.Runs()
            // A loaded parallel run can hold an exchange past the default 1 s.
            try await FleetTestKit.withStation(clock: ClockConfiguration(sampleTimeout: .seconds(5))) { station, port in
                let clients = Self.offsets.map { FleetTestKit.drone($0.0, port: port, offset: .seconds($0.1), runs: runs) }
                    + [FleetTestKit.referenceDrone("reference", port: port, offset: 0.5, runs: runs)]
                try await FleetTestKit.running(clients) {
                    try await station.waitForDrones(4, timeout: .seconds(30))
                    let results = await station.measureClocks(of: nil)
                    #expect(results.allSucceeded)
                    let expected = Dictionary(uniqueKeysWithValues: Self.offsets + [("reference", 0.5)])
                    for (id, offset) in results.values {
                        let error = abs(offset.offset.inSeconds - expected[id]!)
                        // Within its uncertainty (half the best round trip: well under a millisecond on an
                        // idle loopback, more when a loaded test run holds the event loops), and a millisecond.
                        #expect(error < offset.uncertainty.inSeconds + 0.001, "\(id): measured \(offset.offset) ± \(offset.uncertainty), off by \(error * 1000) ms")
                        #expect(offset.method == (id == "reference" ? .timeRequest : .exchange))
                        // Kept (or already replaced by the station's own measurement on connect, which may finish later).
                        #expect(station.clockOffset(for: id) != nil)
                    }
                    #expect(Set(station.clockOffsets.keys) == ["ahead", "behind", "exact", "reference"])
                    let missing = await station.measureClocks(of: ["ghost"])
                    #expect(missing.notConnected == ["ghost"])
                }
            }
        }

        @Test("the station measures each drone on connect, from its one loop, and says which are beyond the threshold")
        func onConnect() async throws {
            let runs = FleetTestKit.Runs()
            try await FleetTestKit.withStation(clock: ClockConfiguration(samples: 3, threshold: .milliseconds(50))) { station, port in
                let events = station.clockEvents()
                let clients = Self.offsets.map { FleetTestKit.drone($0.0, port: port, offset: .seconds($0.1), runs: runs) }
                try await FleetTestKit.running(clients) {
                    var exceeded: [String: ClockOffset] = [:]
                    // On a loaded machine the exact drone may cross too for a while (its
                    // measurement's uncertainty is half a long round trip): waited past.
                    for await event in events {
                        guard case .exceeded(let id, let offset) = event else { continue }
                        exceeded[id] = offset
                        if exceeded["ahead"] != nil, exceeded["behind"] != nil { break }
                    }
                    let behind = try #require(exceeded["behind"])
                    #expect(exceeded["ahead"] != nil)
                    #expect(abs(behind.offset.inSeconds + 1.2) < behind.uncertainty.inSeconds + 0.001)
                    // The drone within the threshold was measured too, without an event.
                    try await station.waitForDrones(3, timeout: .seconds(5))
                    let exact = try await station.waitForClockOffset(of: "exact", timeout: .seconds(5))
                    #expect(abs(exact.offset.inSeconds) < exact.uncertainty.inSeconds + 0.001)
                }
            }
        }

        @Test("with measuring on link off and no interval, the station asks a drone's clock only on demand")
        func onDemandOnly() async throws {
            let runs = FleetTestKit.Runs()
            try await FleetTestKit.withStation(clock: ClockConfiguration(interval: nil, measuresOnLink: false)) { station, port in
                let drone = FleetTestKit.drone("quiet", port: port, offset: .milliseconds(250), runs: runs)
                try await FleetTestKit.running([drone]) {
                    try await station.waitForDrones(1, timeout: .seconds(30))
                    // A round trip on the link: a measurement started on connect would have begun by now.
                    let link = try #require(station.connection(for: "quiet"))
                    _ = try await link.request("id", timeout: .seconds(5))
                    #expect(station.clockOffsets.isEmpty)
                    #expect(link.pendingRequestCount == 0)
                    let measured = try await station.measureClock(of: "quiet")
                    #expect(abs(measured.offset.inSeconds - 0.25) <= measured.uncertainty.inSeconds + 0.001)
                    #expect(station.clockOffset(for: "quiet") == measured)
                }
            }
        }
    }
}
