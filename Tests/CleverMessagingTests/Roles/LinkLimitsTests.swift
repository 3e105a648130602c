import CleverTestSupport
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import CleverMessaging

/// Deadlines and limits against peers that misbehave, on real loopback sockets:
/// links that never speak, a link that floods, one link too many.
@Suite("Server: handshake deadline and link limits", .timeLimit(.minutes(2)))
struct LinkLimitsTests {
    /// Opens `count` raw TCP links to `port` that send nothing, up to 100 connects in flight at a time.
    static func idleLinks(_ count: Int, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> [any Channel] {
        var channels: [any Channel] = []
        channels.reserveCapacity(count)
        let bootstrap = ClientBootstrap(group: group)
        while channels.count < count {
            let batch = (0..<min(100, count - channels.count)).map { _ in bootstrap.connect(host: "127.0.0.1", port: port) }
            for connect in batch { channels.append(try await connect.get()) }
        }
        return channels
    }

    /// This process's resident set, in bytes (Linux), or `nil`.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test("2,000 links that say nothing are all closed by a 300 ms handshake deadline; the link table empties")
    func idleLinksClosed() async throws {
        var configuration = ConnectionConfiguration()
        configuration.handshakeTimeout = .milliseconds(300)
        // Both ends on a loop of their own: 2,000 links at once must not delay the other suites' links,
        // which run in parallel on the shared loops.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let station = GroundStation(host: "127.0.0.1", port: 0, configuration: configuration, identifyTimeout: .milliseconds(300), group: group)
        let refusals = station.server.refusals()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await station.run() }
            let port = try #require(try await station.server.localAddress().port)
            // Warm up once, so that what is measured afterwards is the links, not first-use allocations.
            for channel in try await Self.idleLinks(50, port: port, group: group) { try await channel.closeFuture.get() }
            #expect(await station.server.waitForConnectionCount { $0 == 0 })
            let before = Self.residentBytes()

            let channels = try await Self.idleLinks(2000, port: port, group: group)
            // Every one is closed by the server (none of them said a word).
            for channel in channels { try await channel.closeFuture.get() }
            #expect(await station.server.waitForConnectionCount { $0 == 0 })
            #expect(station.drones.isEmpty)
            let timedOut = await events(2000, in: refusals, within: .seconds(30)) { $0.reason.rawValue == "timed_out" }
            #expect(timedOut)
            if let before, let after = Self.residentBytes() {
                // Generous: back near where it was, not growing with the links closed.
                #expect(after < before * 2 + 64 * 1024 * 1024, "RSS \(before) → \(after)")
            }
            station.shutdown()
            try await tasks.waitForAll()
        }
        try await group.shutdownGracefully()
    }

    @Test("a link that floods frames is cut with a warning naming it; another link on the same server is unaffected")
    func floodCut() async throws {
        let log = LogMessages()
        let calls = Watched(0)
        let registry = HandlerRegistry()
        registry.onAction("telemetry") { _, _, _ in calls.update { $0 += 1 } }
        var configuration = ConnectionConfiguration()
        configuration.inboundFrameLimit = FrameRateLimit(framesPerSecond: 200)
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: registry, configuration: configuration, logger: log.logger("clever.server"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try #require(try await server.localAddress().port)
            let calm = MessagingClient(host: "127.0.0.1", port: port, registry: HandlerRegistry())
            group.addTask { try await calm.run() }
            try await calm.connection.waitUntilConnected()

            // The flood: 5,000 frames in one write on a raw link.
            let flooder = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
            let flooderPort = try #require(flooder.localAddress?.port)
            var bytes = ByteBuffer()
            var writer = FrameWriter(marker: nil)
            for n in 0..<5000 { try writer.write(.action("telemetry", args: [.integer(n)]), into: &bytes) }
            flooder.writeAndFlush(bytes, promise: nil)
            try await flooder.closeFuture.get()
            let warning = "peer (127.0.0.1:\(flooderPort)) sent more than 200 frames/s; link closed"
            #expect(await log.wait(for: warning), "\(log.messages.value.suffix(5))")
            let flooded = calls.value
            // The burst (200) and what refilled between reads went through; the rest never did.
            #expect(flooded < 5000)

            // The calm link goes on as before.
            _ = try await calm.connection.send("telemetry")
            #expect(await calls.wait { $0 == flooded + 1 })
            #expect(await server.waitForConnectionCount { $0 == 1 })
            calm.shutdown()
            server.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("past maximumConnections and maximumConnectionsPerAddress the extra link is refused, and told as a refusal")
    func maximumConnections() async throws {
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: makeTestRegistry(), maximumConnections: 3, maximumConnectionsPerAddress: 2)
        let refusals = server.refusals()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try #require(try await server.localAddress().port)
            let local = try await Self.idleLinks(2, port: port)
            _ = try await server.waitForConnections(2)
            // A third from 127.0.0.1: over the per-address limit.
            let third = try await Self.idleLinks(1, port: port)[0]
            try await third.closeFuture.get()
            let perAddress = await firstEvent(in: refusals)
            #expect(perAddress?.reason == .tooManyConnectionsFromAddress)
            // From 127.0.0.2 one more fits; the one after is over the total.
            let other = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(to: try SocketAddress(ipAddress: "127.0.0.2", port: 0))
                .connect(host: "127.0.0.1", port: port).get()
            _ = try await server.waitForConnections(3)
            let extra = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(to: try SocketAddress(ipAddress: "127.0.0.3", port: 0))
                .connect(host: "127.0.0.1", port: port).get()
            try await extra.closeFuture.get()
            let total = await firstEvent(in: refusals)
            #expect(total?.reason == .tooManyConnections)
            #expect(total?.address.hasPrefix("127.0.0.3:") == true)
            #expect(server.connections.count == 3)
            for channel in local + [other] { try await channel.close() }
            server.shutdown()
            try await group.waitForAll()
        }
    }
}
