import CleverMessaging
import Testing

/// Ports outside their range are refused with a typed error, never wrapped or replaced.
@Suite("Roles: port validation", .timeLimit(.minutes(1)))
struct PortValidationTests {
    @Test("a server or ground station asked to listen on a port outside 0...65535 throws invalidPort", arguments: [-1, 65536, 99999])
    func serverPort(_ port: Int) async throws {
        let server = MessagingServer(host: "127.0.0.1", port: port, registry: HandlerRegistry())
        await #expect(throws: MessagingError.invalidPort(port, allowed: 0...65535)) { try await server.run() }
        await #expect(throws: MessagingError.invalidPort(port, allowed: 0...65535)) { try await server.localAddress() }
        let station = GroundStation(host: "127.0.0.1", port: port)
        await #expect(throws: MessagingError.invalidPort(port, allowed: 0...65535)) { try await station.run() }
    }

    @Test("a client pointed at port 0 or one outside 1...65535 throws invalidPort instead of retrying", arguments: [0, -5, 65536, 99999])
    func clientPort(_ port: Int) async throws {
        let client = MessagingClient(host: "127.0.0.1", port: port, registry: HandlerRegistry())
        await #expect(throws: MessagingError.invalidPort(port, allowed: 1...65535)) { try await client.run() }
        let listener = DiscoveryListener(host: "127.0.0.1", port: 0)
        await #expect(throws: MessagingError.invalidPort(port, allowed: 1...65535)) {
            try await client.run(discovery: listener, timeout: .seconds(1))
        }
        await listener.close()
    }

    @Test("a discovery listener on a port outside 0...65535 and a beacon to one outside 1...65535 are refused")
    func discoveryPorts() async throws {
        let listener = DiscoveryListener(host: "127.0.0.1", port: 70000)
        await #expect(throws: MessagingError.self) { try await listener.start() }
        do {
            try await listener.start()
        } catch {
            guard case .invalidAddress(_, 70000, _) = error else {
                Issue.record("expected invalidAddress, got \(error)")
                return
            }
        }
        let client = MessagingClient(host: "127.0.0.1", port: 25000, registry: HandlerRegistry())
        await #expect(throws: MessagingError.invalidPort(70000, allowed: 0...65535)) {
            try await client.run(discovery: ClientDiscovery(listener: .init(host: "127.0.0.1", port: 70000)))
        }
        let announcement = ServerAnnouncement(host: "127.0.0.1", port: 25000, id: "0001", startTime: 0)
        let beacon = DiscoveryBeacon(announcement: announcement, host: "127.0.0.1", port: 0)
        await #expect(throws: MessagingError.self) { try await beacon.sendOnce() }
        await beacon.close()
    }

    @Test("the error message names the port and the range")
    func message() {
        #expect("\(MessagingError.invalidPort(99999, allowed: 0...65535))" == "invalid port 99999: a port must be in 0...65535")
    }
}
