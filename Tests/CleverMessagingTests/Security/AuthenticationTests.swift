import CleverMessaging
import CleverTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Token authentication end to end, on loopback sockets: a ground station that
/// requires a token, and drones with the right one, a wrong one, none, or
/// another drone's.
@Suite("Token authentication on a real link", .timeLimit(.minutes(1)))
struct AuthenticationTests {
    /// A drone that answers `id` and counts the actions it is sent.
    static func drone(_ id: String, port: Int, token: String?, tokenID: String? = nil) -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        registry.onRequest("clover_dir") { _, _, _ in .string("/home/pi") }
        // Handshakes get far longer than the default 2 s: a loaded parallel test run can hold one for seconds.
        var configuration = ConnectionConfiguration(handshakeTimeout: .seconds(30))
        if let token { configuration.handshake.insert(TokenClientStage.Factory(token: token, id: tokenID ?? id), at: 0) }
        return MessagingClient(
            host: "127.0.0.1", port: port, registry: registry, configuration: configuration,
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(1))
        )
    }

    /// A station that requires `store`, whose `telemetry` handler counts the calls.
    ///
    /// Its identify timeout is far longer than the default 2 s: these tests are about who is let in,
    /// and a parallel test run on a loaded machine can hold a drone's `id` answer for seconds.
    static func station(_ store: TokenStore, calls: Watched<Int>) -> GroundStation {
        let registry = HandlerRegistry()
        registry.onAction("telemetry") { _, _, _ in calls.update { $0 += 1 } }
        var configuration = ConnectionConfiguration(handshakeTimeout: .seconds(30))
        configuration.handshake.insert(TokenServerStage.Factory(store: store), at: 0)
        return GroundStation(
            host: "127.0.0.1", port: 0, registry: registry, configuration: configuration, identifyTimeout: .seconds(30)
        )
    }

    @Test("the right token: the drone is identified and its actions reach the handler")
    func rightToken() async throws {
        let calls = Watched(0)
        let station = Self.station(TokenStore(sharedToken: "fleet-secret"), calls: calls)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try #require(try await station.server.localAddress().port)
            let drone = Self.drone("copter-1", port: port, token: "fleet-secret")
            group.addTask { try await drone.run() }
            _ = try await station.waitForDrones(1, timeout: .seconds(30))
            #expect(station.connection(for: "copter-1")?.handshakeResult(TokenServerStage.Authenticated.self)?.id == "copter-1")
            try await drone.connection.waitUntilConnected()
            _ = try await drone.connection.send("telemetry")
            #expect(await calls.wait { $0 == 1 })
            drone.shutdown()
            station.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("a wrong token: authentication_failed on both sides, the handler never called, the drone backs off")
    func wrongToken() async throws {
        let calls = Watched(0)
        let station = Self.station(TokenStore(sharedToken: "fleet-secret"), calls: calls)
        let refusals = station.server.refusals()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try #require(try await station.server.localAddress().port)
            let drone = Self.drone("copter-1", port: port, token: "guess")
            let log = ClientEventLog(drone)
            group.addTask { try await drone.run() }
            let refusal = await firstEvent(in: refusals)
            #expect(refusal?.reason.rawValue == "authentication_failed")
            #expect(refusal?.address.hasPrefix("127.0.0.1:") == true)
            do {
                // The next attempt fails too (within the back-off's 1 s cap, however loaded the machine).
                try await drone.connection.waitUntilConnected(timeout: .seconds(30))
                Issue.record("connected")
            } catch let error as MessagingError {
                #expect(error.code == .authenticationFailed, "\(error)")
            }
            #expect(drone.connection.lastHandshakeFailure?.reason == .authenticationFailed)
            // It backs off (0.1 s, 0.2 s, 0.4 s... with a tenth of jitter and a 1 s cap),
            // instead of coming back every 0.1 s: the waits between a refused link's end and
            // the next attempt, as the drone published them (a slow machine only makes them longer).
            #expect(await log.wait(for: 4) { $0.isConnecting })
            let waits = log.waits(from: \.isDisconnected, to: \.isConnecting)
            let least: [Duration] = [.milliseconds(90), .milliseconds(180), .milliseconds(360)]
            #expect(waits.count >= least.count, "\(waits)")
            for (wait, least) in zip(waits, least) {
                #expect(wait >= least - .milliseconds(1), "waits \(waits)")
            }
            #expect(station.drones.isEmpty)
            #expect(calls.value == 0)
            drone.shutdown()
            station.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("no token: refused with authentication_required; nothing reaches a handler")
    func noToken() async throws {
        let calls = Watched(0)
        let station = Self.station(TokenStore(sharedToken: "fleet-secret"), calls: calls)
        let refusals = station.server.refusals()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try #require(try await station.server.localAddress().port)
            let drone = Self.drone("copter-1", port: port, token: nil)
            group.addTask { try await drone.run() }
            // Once its link is up, the drone sends an action: the server refuses the link for it.
            group.addTask {
                try? await drone.connection.waitUntilConnected(timeout: .seconds(5))
                _ = try? await drone.connection.send("telemetry")
            }
            let refusal = await firstEvent(in: refusals)
            #expect(refusal?.reason.rawValue == "authentication_required")
            #expect(station.drones.isEmpty)
            #expect(calls.value == 0)
            drone.shutdown()
            station.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("a raw peer that speaks like a reference drone is refused with authentication_required, and sent nothing")
    func referencePeer() async throws {
        let calls = Watched(0)
        let station = Self.station(TokenStore(sharedToken: "fleet-secret"), calls: calls)
        let refusals = station.server.refusals()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try #require(try await station.server.localAddress().port)
            let received = NIOLockedValueBox(0)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ByteCounter(count: received)) }
                }
                .connect(host: "127.0.0.1", port: port).get()
            var bytes = ByteBuffer()
            var writer = FrameWriter(marker: nil)
            try writer.write(.action("telemetry", args: [1]), into: &bytes)
            try await channel.writeAndFlush(bytes)
            let refusal = await firstEvent(in: refusals)
            #expect(refusal?.reason.rawValue == "authentication_required")
            try await channel.closeFuture.get()
            #expect(received.withLockedValue { $0 } == 0)
            #expect(calls.value == 0)
            station.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("per-drone tokens: the token of copter-1 used to identify as copter-2 is refused")
    func anotherDronesToken() async throws {
        let calls = Watched(0)
        let store = TokenStore(tokens: ["copter-1": "one", "copter-2": "two"])
        let station = Self.station(store, calls: calls)
        let refusals = station.server.refusals()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run() }
            let port = try #require(try await station.server.localAddress().port)
            // Proves copter-1's token (as copter-1), then answers id copter-2.
            let impostor = Self.drone("copter-2", port: port, token: "one", tokenID: "copter-1")
            group.addTask { try await impostor.run() }
            let refusal = await firstEvent(in: refusals)
            #expect(refusal?.reason.rawValue == "authentication_failed")
            #expect(refusal?.message == "the peer proved the token of copter-1 and answered id copter-2")
            #expect(station.drones.isEmpty)
            impostor.shutdown()
            // The real copter-2, with its own token, is let in.
            let real = Self.drone("copter-2", port: port, token: "two")
            group.addTask { try await real.run() }
            _ = try await station.waitForDrones(1, timeout: .seconds(30))
            #expect(station.drones.map(\.id) == ["copter-2"])
            real.shutdown()
            station.shutdown()
            try await group.waitForAll()
        }
    }
}

/// Counts the bytes a raw test peer receives.
final class ByteCounter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let count: NIOLockedValueBox<Int>

    init(count: NIOLockedValueBox<Int>) {
        self.count = count
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytes
        count.withLockedValue { $0 += bytes }
    }
}
