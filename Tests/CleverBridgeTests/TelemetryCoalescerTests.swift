import CleverBridge
import CleverMessaging
import Testing

struct TelemetryCoalescerTests {
    @Test func keepsTheLatestRecordOfEachDroneInArrivalOrder() {
        var coalescer = TelemetryCoalescer()
        coalescer.offer(["n": 1], of: "b")
        coalescer.offer(["n": 1], of: "a")
        coalescer.offer(["n": 2], of: "b")
        coalescer.offer(["n": 3], of: "b")
        #expect(coalescer.count == 2)
        let drained = coalescer.drain()
        #expect(drained.map(\.droneID) == ["b", "a"])
        #expect(drained.map(\.record) == [["n": 3], ["n": 1]])
        #expect(coalescer.coalesced == 2)
        #expect(coalescer.drain().isEmpty)
    }

    @Test func memoryIsOneRecordPerDroneHoweverFastTheyPush() {
        var coalescer = TelemetryCoalescer()
        for round in 0..<1000 {
            for drone in 0..<10 { coalescer.offer(.integer(round), of: "d\(drone)") }
        }
        #expect(coalescer.count == 10)
        #expect(coalescer.drain().allSatisfy { $0.record == 999 })
    }

    @Test func subjectsAreTheContracts() {
        #expect(FleetSubjects.action("go", station: "north", drone: "all") == "clever.north.all.action.go")
        #expect(FleetSubjects.request("telemetry", station: "north", drone: "d1") == "clever.north.d1.request.telemetry")
        #expect(FleetSubjects.event(.telemetry, station: "north", drone: "d1") == "clever.north.d1.telemetry")
        #expect(FleetError(MessagingError.notConnected).code == "not_connected")
        #expect(FleetError(MessagingError.remote(RemoteError(code: "busy", message: "later"))).code == "busy")
    }
}
