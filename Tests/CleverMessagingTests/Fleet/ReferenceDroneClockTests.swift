import CleverMessaging
import Testing

extension FleetEndToEndTests {
    /// The Python reference-style drone (`Tests/Interop/peer.py`): measured through its
    /// `time` request, and given `start` as the reference ground station sends it.
    @Suite("Clock and timed start with the Python reference-style drone", .timeLimit(.minutes(1)))
    struct ReferenceDroneClockTests {
        @Test("the Python drone is measured through time, and gets start with its time as a string")
        func pythonDrone() async throws {
            try await FleetTestKit.withStation { station, port in
                let peer = try PythonPeer(["client", "--port", "\(port)", "--id", "py-clock"])
                try await station.waitForDrones(1, timeout: .seconds(15))
                let offset = try await station.measureClock(of: "py-clock")
                #expect(offset.method == .timeRequest)
                // Same host, same clock: zero, within the reading's uncertainty (and a millisecond of slack).
                #expect(abs(offset.offset.inSeconds) <= offset.uncertainty.inSeconds + 0.001)
                #expect(abs((offset.uncertainty - offset.roundTrip / 2).inSeconds) < 1e-9)
                let instant = WallClock.now + 0.3
                let results = await station.start(at: instant, action: "start", targets: ["py-clock"])
                guard case .success(let receipt)? = results[droneID: "py-clock"] else {
                    Issue.record("\(results.failures)")
                    return
                }
                #expect(receipt.confirmation == .sent)
                let action = try await peer.waitFor("action") { $0["action"] == "start" }
                let time = action[0]["kwargs"]?["time"]?.stringValue
                #expect(action[0]["kwargs"]?.objectValue?.count == 1)
                #expect(abs((Double(time ?? "") ?? 0) - receipt.droneTime) < 1e-6, "time \(String(describing: time))")
                // The instant moved by the offset used, which is zero within its uncertainty (same host, same clock).
                #expect(abs(receipt.droneTime - instant) <= receipt.clockOffset.uncertainty.inSeconds + 0.001)
                await peer.quit()
            }
        }
    }
}
