import CleverMessaging
import Testing

@testable import CleverBridge

/// The fleet view's pure parts: targets, clock sampling, event subjects, the telemetry table.
@Suite("Fleet view: pure parts")
struct FleetViewPartsTests {
    @Test func targetsParse() throws {
        #expect(try FleetTarget(parsing: "*") == .all)
        #expect(try FleetTarget(parsing: "all") == .all)
        #expect(try FleetTarget(parsing: "*,north/a") == .all)
        let mixed = try FleetTarget(parsing: "south/copter-10, north/*,south/copter-2,north/x,south/copter-2")
        #expect(mixed.stations == ["north"])
        #expect(mixed.drones.map(\.description) == ["south/copter-2", "south/copter-10"])
        #expect(mixed.description == "north/*,south/copter-2,south/copter-10")
        #expect(mixed.contains(FleetDroneID(station: "north", drone: "anything")))
        #expect(!mixed.contains(FleetDroneID(station: "south", drone: "copter-3")))
        #expect(try FleetTarget(parsing: "east/all").stations == ["east"])
    }

    @Test(arguments: ["", ",", "north", "north/", "/a", "a/b/c", "no.rth/a", "north/a b", "n*/x", "north/>"])
    func badTargetsAreTypedErrors(_ text: String) {
        #expect(throws: FleetError.self) { try FleetTarget(parsing: text) }
        do {
            _ = try FleetTarget(parsing: text)
        } catch {
            #expect(error.code == "invalid_target")
        }
    }

    @Test func dronesSortNaturallyByStationThenDrone() throws {
        let ids = try ["b/c-10", "a/c-2", "b/c-9", "a/c-10"].map { text throws(FleetError) in try FleetDroneID(parsing: text) }
        #expect(ids.sorted().map(\.description) == ["a/c-2", "a/c-10", "b/c-9", "b/c-10"])
    }

    @Test func clockKeepsTheSmallestRoundTrip() throws {
        var estimator = FleetClockEstimator()
        #expect(estimator.estimate(station: "s") == nil)
        // Station 2 s ahead; the second sample has the shortest round trip (2 ms), its midpoint assumption 0.5 ms off.
        estimator.add(FleetClockSample(sent: 100.000, stationTime: 102.030, received: 100.050))
        estimator.add(FleetClockSample(sent: 101.000, stationTime: 103.0015, received: 101.002))
        estimator.add(FleetClockSample(sent: 102.000, stationTime: 104.010, received: 102.010))
        estimator.add(FleetClockSample(sent: .nan, stationTime: 1, received: 2))
        let offset = try #require(estimator.estimate(station: "s"))
        #expect(offset.samples == 3)
        #expect(abs(offset.offset.seconds - 2.0005) < 1e-9)
        #expect(abs(offset.uncertainty.seconds - 0.001) < 1e-9)
        #expect(abs(offset.roundTrip.seconds - 0.002) < 1e-9)
        #expect(abs(offset.stationTime(forConsoleTime: 200) - 202.0005) < 1e-9)
    }

    @Test func aReplyBeforeItsRequestCountsAsNoRoundTrip() {
        let sample = FleetClockSample(sent: 10, stationTime: 10, received: 9.999)
        #expect(sample.roundTrip == 0)
    }

    @Test func eventSubjectsParse() {
        let parsed = FleetEventSubject("clever.north.copter-1.telemetry")
        #expect(parsed?.drone == FleetDroneID(station: "north", drone: "copter-1"))
        #expect(parsed?.kind == .telemetry)
        #expect(parsed?.subject == "clever.north.copter-1.telemetry")
        for subject in ["clever.north.status", "clever.north.a.action.x", "other.north.a.joined", "clever.north.a.bogus", "clever..a.left"] {
            #expect(FleetEventSubject(subject) == nil)
        }
    }

    @Test func eventsDecodeOrSayWhyNot() {
        let joined = FleetViewEvent.decode(subject: "clever.n.a.joined", payload: #"{"station":"n","drone":"a","address":"127.0.0.1:5","time":1}"#)
        #expect(joined == .joined(FleetDroneID(station: "n", drone: "a"), FleetDroneEvent(station: "n", drone: "a", address: "127.0.0.1:5", time: 1)))
        let telemetry = FleetViewEvent.decode(subject: "clever.n.a.telemetry", payload: #"{"battery": 11.5}"#)
        #expect(telemetry == .telemetry(FleetDroneID(station: "n", drone: "a"), ["battery": 11.5]))
        guard case .malformed(let subject, _) = FleetViewEvent.decode(subject: "clever.n.a.clock", payload: "{not json") else {
            Issue.record("a bad payload is reported")
            return
        }
        #expect(subject == "clever.n.a.clock")
        #expect(FleetViewEvent.decode(subject: "clever.n.status", payload: "{}") == nil)
    }

    @Test func theTableKeepsTheLatestOfEachDrone() {
        var table = FleetTelemetryTable()
        let a = FleetDroneID(station: "n", drone: "a")
        let b = FleetDroneID(station: "m", drone: "b")
        table.apply(.joined(a, FleetDroneEvent(station: "n", drone: "a", address: nil, time: 0)), at: 1)
        table.apply(.telemetry(a, ["x": 1]), at: 2)
        table.apply(.telemetry(a, ["x": 2]), at: 3)
        table.apply(.clock(b, FleetClockEvent(drone: "b", offsetMilliseconds: 4, uncertaintyMilliseconds: 1)), at: 4)
        table.apply(.left(a, FleetDroneEvent(station: "n", drone: "a", address: nil, time: 0)), at: 5)
        table.apply(.disconnected, at: 6)
        #expect(table.events == 5)
        let rows = table.sortedRows()
        #expect(rows.map(\.drone) == [b, a])
        #expect(rows[1].telemetry == ["x": 2] && rows[1].telemetryTime == 3 && rows[1].connected == false)
        #expect(rows[0].clockOffsetMilliseconds == 4 && rows[0].connected == nil)
        #expect(table.sortedRows(FleetTarget(stations: ["n"])).map(\.drone) == [a])
        table.apply(FleetStationStatus(station: "m", drones: [.init(id: "b", connected: true, address: nil, clockOffsetMilliseconds: nil)], time: 0))
        #expect(table.rows[b]?.connected == true && table.rows[b]?.clockOffsetMilliseconds == 4)
    }

    @Test func aGapIsMeasuredFromTheFirstDrop() {
        var gap = FleetConnectionGap()
        let start = ContinuousClock.Instant.now
        let early = gap.reconnected(at: start)
        #expect(early == nil)
        let first = gap.dropped(at: start)
        let second = gap.dropped(at: start + .seconds(1))
        #expect(first && !second)
        let length = gap.reconnected(at: start + .seconds(3))
        let again = gap.reconnected(at: start + .seconds(4))
        #expect(length == .seconds(3) && again == nil)
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
