import CleverMessaging
import CleverTestSupport
import NIOCore
import NIOPosix
import Testing

/// The ground station's identity handling, with Swift drones and with the Python reference-style peer.
@Suite("Ground station: identity", .timeLimit(.minutes(2)))
struct GroundStationTests {
    static func withStation(
        clock: ClockConfiguration = .init(), configuration: ConnectionConfiguration = .init(),
        _ body: (GroundStation, Int) async throws -> Void
    ) async throws {
        let station = GroundStation(host: "127.0.0.1", port: 0, configuration: configuration, clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try await station.server.localAddress().port!
            do {
                try await body(station, port)
            } catch {
                station.shutdown()
                throw error
            }
            station.shutdown()
            try await group.waitForAll()
        }
    }

    /// A Swift drone answering `id` and `clover_dir`, connecting from `localHost` (default: the system's choice).
    static func drone(_ id: String, port: Int, from localHost: String? = nil) -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        registry.onRequest("clover_dir") { _, _, _ in .string("/home/pi/\(id)") }
        return MessagingClient(
            host: "127.0.0.1", port: port, registry: registry,
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50)), localHost: localHost
        )
    }

    /// Waits for `count` events that `match` (the support function of that name).
    static func events<Event: Sendable>(_ count: Int, in stream: AsyncStream<Event>, where match: @escaping @Sendable (Event) -> Bool) async -> Bool {
        await CleverTestSupport.events(count, in: stream, where: match)
    }

    /// The host part of an "ip:port" address.
    static func host(_ address: String) -> Substring {
        address.split(separator: ":").first ?? ""
    }

    /// Whether a ``GroundStation/Event/duplicateRefused(id:address:)`` arrives within `timeout`.
    static func refusal(in events: AsyncStream<GroundStation.Event>, within timeout: Duration) async -> Bool {
        await firstEvent(in: events, within: timeout) { if case .duplicateRefused = $0 { true } else { false } } != nil
    }

    /// The first `count` events, as "first ID", "lost ID", "again ID CONNECTIONS" and
    /// "refused ID HOST"; a drone whose connected state contradicts its event gets
    /// " (still up)" or " (down)" added.
    static func describe(_ events: AsyncStream<GroundStation.Event>, count: Int) async -> [String] {
        var seen: [String] = []
        for await event in events {
            switch event {
            case .firstConnected(let d): seen.append("first \(d.id)" + (d.isConnected ? "" : " (down)"))
            case .disconnected(let d): seen.append("lost \(d.id)" + (d.isConnected ? " (still up)" : ""))
            case .reconnected(let d): seen.append("again \(d.id) \(d.connections)" + (d.isConnected ? "" : " (down)"))
            case .duplicateRefused(let id, let address): seen.append("refused \(id) \(host(address))")
            }
            if seen.count == count { break }
        }
        return seen
    }

    @Test("a drone keeps its record across reconnects; events say first connect, disconnect, reconnect")
    func identityAcrossReconnect() async throws {
        try await Self.withStation { station, port in
            let events = station.events()
            let client = Self.drone("copter-7", port: port)
            let run = Task { try await client.run() }
            try await station.waitForDrones(1, timeout: .seconds(30))
            #expect(station.drones.map(\.id) == ["copter-7"])
            #expect(station.drones[0].cloverDir == "/home/pi/copter-7")
            client.connection.dropLink()
            let seen = await Self.describe(events, count: 3)
            #expect(seen == ["first copter-7", "lost copter-7", "again copter-7 2"])
            #expect(station.drones.count == 1)
            let value = try await station.connection(for: "copter-7")?.request("id")
            #expect(value == "copter-7")
            client.shutdown()
            try await run.value
        }
    }

    @Test("a drone that connects again before its old link is seen to close: lost, then again, and the old link is dropped")
    func reconnectBeforeCloseIsSeen() async throws {
        try await Self.withStation { station, port in
            let events = station.events()
            let first = Self.drone("copter-9", port: port)
            let firstRun = Task { try await first.run() }
            try await station.waitForDrones(1, timeout: .seconds(30))
            // A second client with the same id while the first link is still up:
            // what the station sees when a drone's new link wins the race with its old link's close.
            let second = Self.drone("copter-9", port: port)
            let secondRun = Task { try await second.run() }
            let seen = await Self.describe(events, count: 3)
            #expect(seen == ["first copter-9", "lost copter-9", "again copter-9 2"])
            #expect(station.drones.count == 1)
            // (The station dropped the first client's link; that client now
            // reconnects and takes the id back in turn, so both stop here.)
            first.shutdown()
            second.shutdown()
            try await firstRun.value
            try await secondRun.value
        }
    }

    @Test("a second drone with the id of a connected drone, from another host: refused (said once), the first keeps its link; the second gets in when the first leaves")
    func duplicateFromAnotherHost() async throws {
        try await Self.withStation { station, port in
            let events = station.events()
            let watch = station.events()
            let links = station.server.events()
            let first = Self.drone("copter-5", port: port)
            let firstRun = Task { try await first.run() }
            try await station.waitForDrones(1, timeout: .seconds(30))
            // 127.0.0.2 is loopback too, but another host to the station.
            let clone = Self.drone("copter-5", port: port, from: "127.0.0.2")
            let cloneRun = Task { try await clone.run() }
            guard await Self.refusal(in: watch, within: .seconds(10)) else {
                Issue.record("no duplicateRefused event within 10 s")
                first.shutdown()
                clone.shutdown()
                try await firstRun.value
                try await cloneRun.value
                return
            }
            // The clone, refused, connects again, and again: the first drone keeps its link.
            let cloneRefusedAgain = await Self.events(3, in: links) { event in
                if case .disconnected(let connection) = event { connection.remoteAddress?.ipAddress == "127.0.0.2" } else { false }
            }
            #expect(cloneRefusedAgain)
            #expect(station.drones.count == 1)
            #expect(Self.host(station.drones.first?.address ?? "") == "127.0.0.1")
            #expect(station.drones.first?.connections == 1)
            #expect(first.connection.isConnected)
            let linked = station.connection(for: "copter-5")
            #expect(linked?.remoteAddress?.ipAddress == "127.0.0.1")
            #expect(try await linked?.request("id") == "copter-5")
            // The first leaves: the clone's next try gets the id.
            first.shutdown()
            try await firstRun.value
            let seen = await Self.describe(events, count: 4)
            #expect(seen == ["first copter-5", "refused copter-5 127.0.0.2", "lost copter-5", "again copter-5 2"])
            #expect(Self.host(station.drones.first?.address ?? "") == "127.0.0.2")
            clone.shutdown()
            try await cloneRun.value
        }
    }

    @Test("a peer that never answers id: its link closes at the identify timeout, and nothing it sent reached a handler")
    func silentPeerClosed() async throws {
        let registry = HandlerRegistry()
        let recorder = ActionRecorder(recording: ["hello"], on: registry)
        let station = GroundStation(host: "127.0.0.1", port: 0, registry: registry, identifyTimeout: .seconds(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try await station.server.localAddress().port!
            let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
            // A reference-style frame the station would dispatch on an open link.
            var hello = ByteBuffer()
            var writer = FrameWriter()
            try writer.write(.action("hello"), into: &hello)
            // (Under load the station may have closed the link already: the write then fails, and nothing was dispatched either.)
            try? await raw.writeAndFlush(hello)
            // The station closes the link (the identify timeout is the thing under test).
            try await raw.closeFuture.get()
            #expect(recorder.all.isEmpty)
            #expect(station.drones.isEmpty)
            station.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("the Python reference-style drone is identified and answers telemetry")
    func pythonDrone() async throws {
        try await Self.withStation { station, port in
            let peer = try PythonPeer(["client", "--port", "\(port)", "--id", "py-drone-1"])
            try await station.waitForDrones(1, timeout: .seconds(15))
            #expect(station.connectedIDs == ["py-drone-1"])
            #expect(station.drones[0].cloverDir == "/home/pi/catkin_ws/src/clever")
            let telemetry = try await station.connection(for: "py-drone-1")?.request("telemetry")
            #expect(telemetry?["mode"] == "OFFBOARD")
            await peer.quit()
        }
    }

    @Test("a Swift drone is driven by the Python reference-style ground station")
    func pythonStation() async throws {
        let peer = try PythonPeer(["server", "--port", "0"])
        let port = try await peer.listeningPort()
        let registry = HandlerRegistry()
        let recorder = ActionRecorder(recording: ["takeoff"], on: registry)
        registry.onRequest("id") { _, _, _ in "swift-drone" }
        registry.onRequest("telemetry") { _, _, _ in ["battery": [12.1, 0.9], "armed": false] }
        let client = MessagingClient(host: "127.0.0.1", port: port, registry: registry)
        let run = Task { try await client.run() }
        try await peer.waitFor("accepted")
        peer.send(["cmd": "request", "value": "id", "tag": "id"])
        peer.send(["cmd": "request", "value": "telemetry", "tag": "t"])
        peer.send(["cmd": "send", "action": "takeoff", "kwargs": ["height": 2]])
        let responses = try await peer.waitFor("response", count: 2)
        #expect(responses.first { $0["tag"] == "id" }?["value"] == "swift-drone")
        #expect(responses.first { $0["tag"] == "t" }?["value"] == ["battery": [12.1, 0.9], "armed": false])
        let actions = try await recorder.waitFor(count: 1)
        #expect(actions[0].kwargs == ["height": 2])
        client.shutdown()
        try await run.value
        await peer.quit()
    }
}
