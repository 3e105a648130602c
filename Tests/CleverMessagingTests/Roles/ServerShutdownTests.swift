import CleverMessaging
import CleverTestSupport
import Logging
import ServiceLifecycle
import Testing

/// ``MessagingServer/run()`` ends on a graceful shutdown after draining its links.
@Suite("Server: graceful shutdown drains links", .timeLimit(.minutes(1)))
struct ServerShutdownTests {
    @Test("a graceful shutdown writes what was queued to each link, closes it, and ends run() and the event streams")
    func drains() async throws {
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: HandlerRegistry())
        let events = server.events()
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        let serving = Task { try await group.run() }
        let port = try await server.localAddress().port!

        let registry = HandlerRegistry()
        let recorder = ActionRecorder(recording: ["bye"], on: registry)
        let client = MessagingClient(host: "127.0.0.1", port: port, registry: registry, reconnectPolicy: ReconnectPolicy(initialDelay: .seconds(30)))
        let clientEvents = client.events()
        let running = Task { try await client.run() }
        try await server.waitForConnections(1)

        // Queued, then the shutdown at once: the frame still goes out before the link closes.
        let sent = try server.broadcast("bye", kwargs: ["reason": "maintenance"])
        #expect(sent.count == 1)
        await group.triggerGracefulShutdown()
        try await serving.value
        #expect(try await recorder.waitFor(count: 1).first?.kwargs == ["reason": "maintenance"])
        #expect(server.connections.isEmpty)

        // The server's stream said up, then down, and ended with run().
        var seen: [String] = []
        for await event in events {
            switch event {
            case .connected: seen.append("connected")
            case .disconnected: seen.append("disconnected")
            }
        }
        #expect(seen == ["connected", "disconnected"])
        #expect(await firstEvent(in: clientEvents) { if case .disconnected = $0 { true } else { false } } != nil)
        client.shutdown()
        try await running.value
    }
}
