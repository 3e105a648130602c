import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// The damaged streams of ``MutationFuzzTests``, this time through the whole
/// receiving side of a connection (``ConnectionHandler`` and ``Connection``
/// on an `EmbeddedChannel`): actions and requests with whatever arguments the
/// damage left reach their handlers, unknown ones are dropped, requests are
/// answered, file pushes and pulls are refused (file transfers are off here).
///
/// For every input: no crash; the link is either still up or closed by a typed
/// decoding error; every byte the connection wrote back decodes as whole
/// response frames; the bytes kept for an incomplete frame stay within what arrived.
@Suite("Mutation fuzzing of a connection's receiving side")
struct ConnectionFuzzTests {
    /// A connection with handlers for the seeds' actions and requests, on an `EmbeddedChannel`.
    struct Harness {
        let channel: EmbeddedChannel
        let connection: Connection
        let handler: ConnectionHandler

        init(calls: NIOLockedValueBox<Int>) throws {
            channel = EmbeddedChannel()
            let registry = HandlerRegistry()
            for action in ["go", "test", "start", "led_fill", "server_ip"] {
                registry.onAction(action) { _, _, _ in calls.withLockedValue { $0 += 1 } }
            }
            registry.onRequest("telemetry") { _, args, kwargs in
                calls.withLockedValue { $0 += 1 }
                return ["args": .array(args), "kwargs": .object(kwargs)]
            }
            registry.onRequest("id") { _, _, _ in "copter" }
            registry.onRequest("time") { _, _, _ in 1_700_000_000.5 }
            registry.onRequest("config") { _, _, kwargs in .object(kwargs) }
            registry.onRequest("fail") { _, _, _ in throw Failure() }
            var configuration = ConnectionConfiguration()
            configuration.filePolicy = nil
            configuration.pingInterval = nil
            let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
            connection = Connection(eventLoop: channel.eventLoop, registry: registry, configuration: configuration, logger: quiet)
            handler = ConnectionHandler(connection: connection)
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        struct Failure: Error {}
    }

    @Test("3,000 damaged streams through a connection: handlers run, replies decode, bad frames close only the link")
    func damagedStreamsThroughAConnection() throws {
        var rng = WireTestKit.SeededRNG(seed: 0xF022)
        let seeds = MutationFuzzTests.seeds
        try #require(seeds.count >= 15)
        let calls = NIOLockedValueBox(0)
        var closed = 0
        var replies = 0
        for round in 0..<3000 {
            let seed = seeds[round % seeds.count]
            let other = seeds.randomElement(using: &rng)!
            var input = MutationFuzzTests.mutate(seed, other: other, using: &rng)
            if round % 3 == 0 { input = other + input + seed }
            let harness = try Harness(calls: calls)
            var given = 0
            for chunk in WireTestKit.randomChunks(input, sizes: 1...max(1, input.count / 3 + 1), using: &rng) {
                guard harness.channel.isActive else { break }
                try harness.channel.writeInbound(harness.channel.allocator.buffer(bytes: chunk))
                harness.channel.pipeline.fireChannelReadComplete()
                given += chunk.count
                #expect(harness.handler.keptCapacity <= 2 * given + 1024)
            }
            harness.channel.embeddedEventLoop.run()
            if !harness.channel.isActive { closed += 1 }

            // Everything written back is whole, decodable response frames.
            var written = ByteBuffer()
            while var part = try harness.channel.readOutbound(as: ByteBuffer.self) { written.writeBuffer(&part) }
            var decoder = FrameDecoder()
            do {
                while let part = try decoder.decode(buffer: &written) {
                    guard case .frame(let frame) = part else {
                        Issue.record("round \(round): a binary part was written back: \(part)")
                        break
                    }
                    #expect(frame.header.messageType == .response, "round \(round): wrote \(frame.header.messageType)")
                    replies += 1
                }
            } catch {
                Issue.record("round \(round): what the connection wrote does not decode: \(error)")
            }
            #expect(written.readableBytes == 0, "round \(round): a partial frame was written back")
            _ = try? harness.channel.finish(acceptAlreadyClosed: true)
        }
        // The damage must leave both kinds of outcome, and reach the handlers.
        #expect(closed > 300 && closed < 2900, "closed links: \(closed)")
        #expect(calls.withLockedValue { $0 } > 250)
        #expect(replies > 100, "replies: \(replies)")
    }
}
