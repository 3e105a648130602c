import CleverMessaging
import Foundation
import Testing

/// `clever-msg bench swarm` end to end with a few drones: it runs, nothing
/// fails, and broadcast and request-all carry their raw baselines (no
/// timing is asserted).
@Suite("CLI: bench swarm", .timeLimit(.minutes(2)))
struct BenchSwarmTests {
    @Test("bench swarm --count 12 --json: every measurement, baselines for broadcast and request-all")
    func smallSwarm() async throws {
        let result = try await CleverMsgBinary.run(["bench", "swarm", "--count", "12", "--json"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let byName = result.measurements
        #expect(Set(byName.keys) == [
            "swarm.identify_all", "swarm.broadcast", "swarm.request_all", "swarm.broadcast.cpu", "swarm.request_all.cpu",
            "swarm.rss.station", "swarm.rss.swarm",
        ])
        // The CPU lines (clock-tick resolution for the child) may lack a baseline with so few drones.
        for name in ["swarm.broadcast", "swarm.request_all"] {
            let baseline = byName[name]?["baseline"]?.doubleValue ?? 0
            #expect(baseline > 0, "\(name) has no raw baseline: \(byName[name] ?? .null)")
            #expect(byName[name]?["ratio"] != nil)
        }
    }
}
