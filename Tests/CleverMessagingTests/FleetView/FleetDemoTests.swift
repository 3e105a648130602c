import CleverTestSupport
import Foundation
import Testing

/// `clever-msg demo --nats`: two bridged stations and a fleet view, against a real `nats-server`.
@Suite("CLI: fleet demo", .serialized, .needsNATSServer, .timeLimit(.minutes(2)))
struct FleetDemoTests {
    @Test("the fleet demo lists 6 drones, reaches all, gets 6 replies and a timed start on both stations")
    func demo() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        let result = try await CleverMsgBinary.run(["demo", "--nats", "--nats-url", server.url])
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "stdout: \(text) stderr: \(result.stderr)")
        #expect(text.contains("the fleet view sees 6 drones: north/copter-1, north/copter-2, north/copter-3, south/copter-1"))
        #expect(text.contains("takeoff sent to all 6 drones through NATS; every drone received it"))
        #expect(text.contains("request-all telemetry: 6 of 6 drones answered"))
        #expect(text.contains("north acknowledged by 3, failed on 0"))
        #expect(text.contains("south acknowledged by 3, failed on 0"))
        #expect(text.hasSuffix("done\n"))
    }

    @Test("without a NATS server the fleet demo says how to start one and fails")
    func noServer() async throws {
        let port = try await NATSServerProcess.freePort()
        let result = try await CleverMsgBinary.run(["demo", "--nats", "--nats-url", "nats://127.0.0.1:\(port)"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("nats-server -a 127.0.0.1 -p 4222"))
    }
}
