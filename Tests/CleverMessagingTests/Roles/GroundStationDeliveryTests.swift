import CleverTestSupport
import NIOCore
import Testing

@testable import CleverMessaging

/// Acknowledged delivery from a ground station to a Swift drone: the drone
/// learns the station's kind from its `id` request, offers its session, and
/// actions the station sent before the drone's link dropped run once, in order,
/// after the reconnect, on the station's new connection for the drone.
@Suite("Ground station: acknowledged delivery", .timeLimit(.minutes(1)))
struct GroundStationDeliveryTests {
    @Test("actions to a drone whose link drops mid-stream run once, in order; every receipt says delivered")
    func stationToDrone() async throws {
        let count = 200
        let steps = Watched<[Int]>([])
        let registry = AcknowledgedDeliveryTests.recordingSteps(into: steps)
        registry.onRequest("id") { _, _, _ in "copter-1" }
        registry.onRequest("clover_dir") { _, _, _ in "/home/pi/copter-1" }
        try await GroundStationTests.withStation { station, port in
            let events = station.events()
            let drone = MessagingClient(
                host: "127.0.0.1", port: port, registry: registry,
                reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(20))
            )
            let run = Task { try await drone.run() }
            _ = try await station.waitForDrones(1, timeout: .seconds(30))
            let first = try #require(station.connection(for: "copter-1"))
            #expect(first.deliversAcknowledged, "the drone offered its session after the station's id request")
            // A round trip after the station's answer to the offer: the drone has read that answer too.
            _ = try? await drone.connection.request("no_such_value", timeout: .seconds(5))
            #expect(drone.connection.deliversAcknowledged)
            var receipts: [SendReceipt] = []
            for n in 1...(count / 2) {
                receipts.append(try first.enqueueMessage("step", kwargs: ["n": .integer(n)]))
            }
            drone.connection.dropLink()
            #expect(await GroundStationTests.events(1, in: events) { if case .reconnected = $0 { true } else { false } })
            let second = try #require(station.connection(for: "copter-1"))
            #expect(second !== first)
            // Then through the station's own API (encoded once, numbered per drone), and on the new connection.
            for n in (count / 2 + 1)...(count * 3 / 4) {
                let results = try await station.send("step", arguments: ["n": n], to: ["copter-1"])
                #expect(results.allSatisfy { if case .success = $0.result { true } else { false } })
            }
            for n in (count * 3 / 4 + 1)...count {
                receipts.append(try second.enqueueMessage("step", kwargs: ["n": .integer(n)]))
            }
            for receipt in receipts { #expect(try await receipt.delivered() == .delivered) }
            #expect(await steps.wait { $0.count >= count })
            #expect(steps.value == Array(1...count))
            let statistics = second.deliveryStatistics
            print("ground station to drone, link dropped after \(count / 2) of \(count) actions: sent \(statistics.sent), delivered \(statistics.delivered), resent \(statistics.resent), run twice \(steps.value.count - Set(steps.value).count)")
            #expect(statistics.sent == count)
            drone.shutdown()
            try await run.value
        }
    }
}
