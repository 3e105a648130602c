import CleverMessaging
import Foundation
import Testing

/// Who a call over several drones reached, who it skipped and why, and the
/// summary line: pure values, no sockets.
@Suite("Drone results: skip reasons, tally, summary")
struct DroneResultsTests {
    @Test("an error reads as a skip reason; a missing link is disconnected when the drone is known, unknown otherwise")
    func reasons() {
        #expect(DroneSkipReason(.notConnected, known: true) == .disconnected)
        #expect(DroneSkipReason(.notConnected, known: false) == .unknown)
        #expect(DroneSkipReason(.queueFull(queuedBytes: 10, limit: 5), known: true) == .refused)
        #expect(DroneSkipReason(.closed, known: true) == .refused)
        #expect(DroneSkipReason(.timedOut(requestedValue: "t", requestID: "1", timeout: .seconds(1)), known: true) == .timedOut)
        #expect(DroneSkipReason(.remote(RemoteError(code: "x", message: "y")), known: true) == .remoteError)
        #expect(DroneSkipReason(.connectionLost, known: true) == .linkLost)
        #expect(DroneSkipReason(.decoding("bad"), known: true) == .failed)
        #expect(DroneSkipReason.allCases.map(\.rawValue)
            == ["disconnected", "unknown", "refused", "timed_out", "remote_error", "link_lost", "failed"])
        #expect(DroneSkipReason.timedOut.words == "timed out")
    }

    static let sample = DroneResults<Int>([
        .init(droneID: "a", result: .success(1)),
        .init(droneID: "ghost", result: .failure(.notConnected), skipReason: .unknown),
        .init(droneID: "b", result: .failure(.notConnected)),
        .init(droneID: "c", result: .failure(.timedOut(requestedValue: "t", requestID: "2", timeout: .seconds(1)))),
        .init(droneID: "d", result: .success(4), skipReason: .failed),
    ])

    @Test("every drone is in the results: the reached ones, and each skipped one with its reason")
    func results() {
        let results = Self.sample
        #expect(results.succeeded == ["a", "d"])
        #expect(results[4].skipReason == nil, "a success has no skip reason")
        #expect(results.skipped.map(\.droneID) == ["ghost", "b", "c"])
        #expect(results.skipped.map(\.reason) == [.unknown, .disconnected, .timedOut])
        #expect(results.notConnected == ["ghost", "b"])
        #expect(results.failures.count == 3)
        #expect(!results.allSucceeded)
        #expect(results.tally == DroneTally([("a", nil), ("ghost", .unknown), ("b", .disconnected), ("c", .timedOut), ("d", nil)]))
    }

    @Test("the tally groups skipped drones by reason, in the order of the reasons")
    func tally() throws {
        let tally = Self.sample.tally
        #expect(tally.total == 5)
        #expect(tally.reached == 2)
        #expect(tally.skipped.map(\.reason) == [.disconnected, .unknown, .timedOut])
        #expect(tally.skipped(.disconnected) == ["b"])
        #expect(tally.skipped(.refused) == [])
        let decoded = try JSONDecoder().decode(DroneTally.self, from: JSONEncoder().encode(tally))
        #expect(decoded == tally)
    }

    @Test("the summary names the first ids of each group, then …")
    func summary() {
        var outcomes: [(droneID: String, skipReason: DroneSkipReason?)] = (1...202).map { ("copter-\($0)", nil) }
        for number in [7, 9, 11, 12] { outcomes[number - 1].skipReason = .disconnected }
        outcomes[100].skipReason = .timedOut
        let tally = DroneTally(outcomes)
        #expect(tally.summary("answered") == "answered 197 of 202; 4 disconnected: copter-7, copter-9, copter-11, …; 1 timed out: copter-101")
        #expect(DroneTally([("a", nil), ("b", nil)]).summary("sent to") == "sent to 2 of 2")
        #expect(DroneTally([("a", .refused)]).summary("sent to", listing: 0) == "sent to 0 of 1; 1 refused: …")
        #expect(DroneTally([]).summary("sent to") == "sent to 0 of 0")
    }
}
