import CleverBridge
import CleverMessaging
import CleverNATS
import CleverTestSupport
import NIOCore
import Testing

/// Stations with in-process drones, bridged onto real `nats-server` processes, for the bridge tests.
enum BridgeTestKit {
    /// How many times each drone ran each action (by `station/drone`).
    final class Actions: Sendable {
        private let counts = Watched<[String: Int]>([:])
        func record(_ action: String) { counts.update { $0[action, default: 0] += 1 } }
        func count(_ action: String) -> Int { counts.value[action] ?? 0 }

        /// Waits (woken by each action, up to `timeout`) until `action` ran `count` times.
        func wait(for action: String, count: Int, timeout: Duration = .seconds(30)) async -> Int {
            await counts.wait(timeout: timeout) { ($0[action] ?? 0) >= count }
            return self.count(action)
        }
    }

    /// A drone of this library: answers `id` and `telemetry`, counts `go`, `led` and `show` (the timed start's action).
    static func drone(_ id: String, port: Int, actions: Actions) -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        registry.onRequest("telemetry") { _, _, _ in ["id": .string(id), "battery": 12.5] }
        for name in ["go", "led", "show"] {
            registry.onAction(name) { _, _, _ in actions.record(name) }
        }
        return MessagingClient(
            host: "127.0.0.1", port: port, registry: registry,
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(20))
        )
    }

    /// A NATS client that reconnects quickly (tests stop servers on purpose).
    static func natsClient(_ urls: [String], name: String) throws -> NATSClient {
        var configuration = try NATSConfiguration(urls: urls)
        configuration.name = name
        configuration.reconnectDelay = .milliseconds(50)
        configuration.maximumReconnectDelay = .milliseconds(250)
        configuration.maximumReconnectAttempts = nil
        return NATSClient(configuration: configuration)
    }

    /// A running station with `count` drones (`d000`…), and its bridge onto `urls` under `name`.
    struct BridgedStation: Sendable {
        let station: GroundStation
        let bridge: StationBridge
        let client: NATSClient
        let drones: [MessagingClient]
        let actions: Actions
        /// How many events the bridge's NATS connection had (each wakes ``waitForStatistics(timeout:until:)``).
        let connectionEvents: Watched<Int>
        var name: String { bridge.name }

        /// Waits, woken by each event of the bridge's NATS connection, until its statistics satisfy `condition`.
        /// - Returns: whether they did within `timeout`.
        @discardableResult
        func waitForStatistics(timeout: Duration = .seconds(30), until condition: @escaping @Sendable (StationBridge.Statistics) -> Bool) async -> Bool {
            await connectionEvents.wait(timeout: timeout) { [bridge] _ in condition(bridge.statistics) }
        }
        var ids: [String] { (0..<drones.count).map { BridgeTestKit.id($0) } }
    }

    static func id(_ index: Int) -> String { "d" + String(String(1000 + index).dropFirst()) }

    /// Runs stations named `names`, each with `count` drones and bridged onto `urls`, until `body` returns.
    static func withStations(
        _ names: [String], drones count: Int, nats urls: [String],
        _ body: ([BridgedStation]) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var stations: [BridgedStation] = []
            for name in names {
                // A loaded machine may take long to identify 100 drones at once: only a broken link should miss the deadline.
                let station = GroundStation(
                    host: "127.0.0.1", port: 0, configuration: ConnectionConfiguration(handshakeTimeout: .seconds(30)),
                    identifyTimeout: .seconds(30), clock: ClockConfiguration(interval: nil, measuresOnLink: false))
                group.addTask { try await station.run() }
                let port = try await station.server.localAddress().port!
                let actions = Actions()
                let drones = (0..<count).map { drone(id($0), port: port, actions: actions) }
                for drone in drones { group.addTask { try await drone.run() } }
                let client = try natsClient(urls, name: name)
                try await client.connect()
                let connectionEvents = Watched(0)
                let bridge = try StationBridge(
                    station: station, client: client, name: name,
                    configuration: .init(telemetryInterval: .milliseconds(200), requestTimeout: .seconds(5))
                ) { _ in connectionEvents.update { $0 += 1 } }
                group.addTask { try await bridge.run() }
                await bridge.waitUntilServing()
                stations.append(
                    BridgedStation(
                        station: station, bridge: bridge, client: client, drones: drones, actions: actions, connectionEvents: connectionEvents))
            }
            func stop() async {
                for bridged in stations {
                    bridged.bridge.shutdown()
                    for drone in bridged.drones { drone.shutdown() }
                    bridged.station.shutdown()
                    await bridged.client.close()
                }
            }
            do {
                for bridged in stations { _ = try await bridged.station.waitForDrones(count, timeout: .seconds(20)) }
                try await body(stations)
            } catch {
                await stop()
                throw error
            }
            await stop()
            try await group.waitForAll()
        }
    }

    /// Sends `request` to `subject` and collects every reply for `window` (or until `count` came).
    static func collect<T: Decodable & Sendable>(
        _ type: T.Type, from client: NATSClient, subject: String, payload: ByteBuffer = ByteBuffer(),
        count: Int, window: Duration = .seconds(5)
    ) async throws -> [T] {
        let inbox = "_INBOX.tests.\(UInt64.random(in: 1...UInt64.max))"
        let replies = try await client.subscribe(to: inbox)
        try await client.flush()
        try await client.publish(payload, to: subject, replyTo: inbox)
        return try await withThrowingTaskGroup(of: [T].self) { group in
            group.addTask {
                var collected: [T] = []
                for try await message in replies {
                    collected.append(try decode(T.self, message.payload))
                    if collected.count >= count { break }
                }
                return collected
            }
            group.addTask {
                // A deadline only (as withDeadline's): the collection ends as soon as `count` replies came.
                try? await Task.sleep(for: window)
                await replies.unsubscribe()
                return []
            }
            let first = try await group.next() ?? []
            group.cancelAll()
            await replies.unsubscribe()
            return first
        }
    }

    /// A request through NATS, its reply decoded.
    static func request<T: Decodable>(
        _ type: T.Type, from client: NATSClient, subject: String, _ payload: some Encodable, timeout: Duration = .seconds(30)
    ) async throws -> T {
        let reply = try await client.request(encode(payload), to: subject, timeout: timeout)
        return try decode(T.self, reply.payload)
    }

    static func encode(_ value: some Encodable) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        JSONWriter.write(try JSONValueEncoder().encode(value), into: &buffer)
        return buffer
    }

    static func decode<T: Decodable>(_ type: T.Type, _ payload: ByteBuffer) throws -> T {
        try JSONValueDecoder().decode(T.self, from: payload.withUnsafeReadableBytes { try JSONParser.parse($0) })
    }
}
