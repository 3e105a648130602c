import CleverMessaging
import Testing

/// `clever-msg bench swarm --telemetry-hz`: the station's CPU share and the
/// age of the latest records, with a few drones (no figure is asserted but
/// that every drone's record arrived and the ages are plausible).
@Suite("CLI: bench swarm --telemetry-hz", .timeLimit(.minutes(2)))
struct BenchSwarmTelemetryTests {
    @Test("bench swarm --count 40 --telemetry-hz 5 --telemetry-window 1 --json: CPU share and record ages")
    func telemetryWindow() async throws {
        let result = try await CleverMsgBinary.run(["bench", "swarm", "--count", "40", "--telemetry-hz", "5", "--telemetry-window", "1", "--json"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let byName = result.measurements
        #expect(Set(byName.keys) == ["swarm.identify_all", "swarm.telemetry.station_cpu", "swarm.telemetry.age_p99", "swarm.telemetry.age_p50"])
        let share = byName["swarm.telemetry.station_cpu"]?["value"]?.doubleValue ?? -1
        #expect(share >= 0 && share < 250, "\(share) %")
        // Records come every 200 ms: the latest is younger than a few periods.
        let p99 = byName["swarm.telemetry.age_p99"]?["value"]?.doubleValue ?? -1
        #expect(p99 >= 0 && p99 < 2000, "\(p99) ms")
    }
}
