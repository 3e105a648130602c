import CleverTestSupport
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import CleverMessaging

/// The roles as `Service`s: a `ServiceGroup` runs them and its graceful
/// shutdown stops them the way their own `shutdown()` does.
@Suite("swift-service-lifecycle", .timeLimit(.minutes(1)))
struct ServiceLifecycleTests {
    @Test("a ServiceGroup runs a ground station and a client; graceful shutdown closes both cleanly")
    func groupRunsAndStops() async throws {
        let logger = Logger(label: "test.services")
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in "copter-1" }
        registry.onRequest("clover_dir") { _, _, _ in "/home/pi/catkin_ws/src/clover/clover" }
        let station = GroundStation(host: "127.0.0.1", port: 0)
        let stationGroup = ServiceGroup(services: [station], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        let stationRun = Task { try await stationGroup.run() }
        let port = try await station.server.localAddress().port!

        let client = MessagingClient(host: "127.0.0.1", port: port, registry: registry)
        let clientGroup = ServiceGroup(services: [client], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        let clientRun = Task { try await clientGroup.run() }
        try await station.waitForDrones(1, timeout: .seconds(30))
        #expect(station.drones.map(\.id) == ["copter-1"])

        // The client's group stops first: its connection closes, the station sees the drone go.
        let fleet = station.events()
        await clientGroup.triggerGracefulShutdown()
        try await clientRun.value
        #expect(client.connection.isClosed)
        let gone = await firstEvent(in: fleet) { if case .disconnected = $0 { true } else { false } }
        #expect(gone != nil)
        #expect(station.drones.first?.isConnected == false)

        await stationGroup.triggerGracefulShutdown()
        try await stationRun.value
        #expect(station.server.connections.isEmpty)
    }
}
