import ArgumentParser
import CleverMessaging
import CoreMetrics
import NIOCore
import NIOPosix
import Prometheus
import Synchronization

extension Bench {
    /// `clever-msg bench messages`: one-way actions client → server over loopback.
    struct Messages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One-way action messages/s over loopback, vs a raw TCP blast of the same bytes.",
            discussion: """
                A MessagingClient sends --count actions like the reference's \
                send_message('start', args=(1, 'two', 3.5, None, True), kwargs={'time': ...}) \
                to a MessagingServer whose handler counts them; client and server each run \
                on an event loop group of one thread. The baseline writes the same bytes \
                through a plain NIO channel to a server that only counts them.

                Each half of the library is also measured alone, against a raw peer that \
                costs next to nothing: the receiver (a plain channel writes the encoded \
                frames to a MessagingServer, which decodes them and calls the handler) and \
                the sender (a MessagingClient encodes the actions, a plain server only \
                counts bytes). End to end cannot beat the slower half, and both halves \
                share the machine's cores.
                """
        )

        @OptionGroup var options: Bench.Options

        @Option(help: "Messages per run.")
        var count: Int = 1_000_000

        @Flag(help: "Publish the library's metrics to a Prometheus registry, as `serve --metrics` does (to measure their cost).")
        var metrics = false

        @Flag(inversion: .prefixedNo, help: "Whether client and server agree to acknowledged delivery (the library default): the server then acknowledges the actions it received.")
        var delivery = true

        func validate() throws {
            guard count > 0 else { throw ValidationError("--count must be positive") }
        }

        func run() async throws {
            let reporter = Reporter(json: options.json)
            reporter.warnIfDebug()
            if metrics {
                MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()))
                reporter.note("metrics: published to a Prometheus registry")
            }
            let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let frame = Frame.action("start", args: [1, "two", 3.5, nil, true], kwargs: ["time": "1700000000.5"])
            var writer = FrameWriter()
            var one = ByteBuffer()
            try writer.write(frame, into: &one)
            reporter.note("frame: \(one.readableBytes) bytes; \(count) messages per run; best of 3 runs")
            if !delivery { reporter.note("delivery: off (no sequence numbers, no acknowledgements)") }
            var configuration = ConnectionConfiguration()
            configuration.delivery.isEnabled = delivery
            configuration.delivery.peerIsOfThisLibrary = true

            var endToEnd = Best()
            var receiver = Best()
            var sender = Best()
            var bestRaw = 0.0
            var delivered = DeliveryStatistics()
            for _ in 0..<3 {
                let (rate, cpu, delivery) = try await Self.oneWay(count: count, configuration: configuration, serverGroup: serverGroup, clientGroup: clientGroup)
                endToEnd.add((rate, cpu))
                delivered = delivery
                receiver.add(try await Self.receiverAlone(frame: one, count: count, serverGroup: serverGroup, clientGroup: clientGroup))
                sender.add(try await Self.senderAlone(frameSize: one.readableBytes, count: count, serverGroup: serverGroup, clientGroup: clientGroup))
                bestRaw = max(bestRaw, try await Self.rawBlast(frame: one, count: count, serverGroup: serverGroup, clientGroup: clientGroup))
            }
            try await serverGroup.shutdownGracefully()
            try await clientGroup.shutdownGracefully()
            reporter.note("acknowledged delivery (end to end, last run): \(delivered.sent) actions numbered, \(delivered.delivered) acknowledged")
            for (best, what) in [(endToEnd, "message"), (receiver, "message, receiver alone"), (sender, "message, sender alone")] {
                if let cpu = best.leastCPU { reporter.note(cpu.note(per: count, what: "\(what) (the run that used least)")) }
            }
            reporter.report(
                Measurement(name: "messages.one_way", value: endToEnd.rate, unit: "messages/s", baseline: bestRaw,
                            label: "one-way actions (end to end)")
            )
            reporter.report(
                Measurement(name: "messages.one_way.receiver", value: receiver.rate, unit: "messages/s", baseline: bestRaw,
                            label: "  receiver alone (raw sender)")
            )
            reporter.report(
                Measurement(name: "messages.one_way.sender", value: sender.rate, unit: "messages/s", baseline: bestRaw,
                            label: "  sender alone (raw sink)")
            )
        }

        /// The fastest of a measurement's runs, and the CPU split of the run that used least.
        struct Best {
            var rate = 0.0
            var leastCPU: CPUTime.Split?

            mutating func add(_ run: (rate: Double, cpu: CPUTime.Split)) {
                rate = max(rate, run.rate)
                if leastCPU.map({ run.cpu.total < $0.total }) ?? true { leastCPU = run.cpu }
            }
        }

        /// Sends `count` actions; returns messages/s until the server has handled
        /// them all, the CPU time each side used meanwhile, and the client's
        /// delivery counts (how many of the actions went numbered and were acknowledged).
        static func oneWay(
            count: Int,
            configuration: ConnectionConfiguration,
            serverGroup: any EventLoopGroup,
            clientGroup: any EventLoopGroup
        ) async throws -> (Double, CPUTime.Split, DeliveryStatistics) {
            let (registry, done) = countingRegistry(count: count, group: serverGroup)
            let pair = try await MessagingPair.start(
                serverRegistry: registry, serverGroup: serverGroup, clientGroup: clientGroup, configuration: configuration
            )
            let connection = pair.client.connection
            let result = try await measure(count: count, server: pair.serverSide.eventLoop, client: connection.eventLoop) {
                try await sendActions(count: count, on: connection)
                try await done.get()
            }
            let delivery = connection.deliveryStatistics
            try await pair.stop()
            return (result.0, result.1, delivery)
        }

        /// A plain channel writes `count` copies of the encoded `frame` to a
        /// MessagingServer whose handler counts them; returns messages/s until
        /// the handler saw them all, and the CPU time each side used meanwhile.
        static func receiverAlone(frame: ByteBuffer, count: Int, serverGroup: any EventLoopGroup, clientGroup: any EventLoopGroup) async throws -> (Double, CPUTime.Split) {
            let (registry, done) = countingRegistry(count: count, group: serverGroup)
            let server = MessagingServer(host: "127.0.0.1", port: 0, registry: registry, group: serverGroup)
            let serverTask = Task { try await server.run() }
            let port = try await server.localAddress().port!
            let client = try await ClientBootstrap(group: clientGroup)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: "127.0.0.1", port: port).get()
            let serverSide = try await server.waitForConnections(1)[0]
            let result = try await measure(count: count, server: serverSide.eventLoop, client: client.eventLoop) {
                try await writeCopies(of: frame, count: count, to: client)
                try await done.get()
            }
            try? await client.close()
            server.shutdown()
            try await serverTask.value
            return result
        }

        /// A MessagingClient sends `count` actions to a plain server that only
        /// counts their bytes; returns messages/s until all arrived, and the CPU
        /// time each side used meanwhile.
        static func senderAlone(frameSize: Int, count: Int, serverGroup: any EventLoopGroup, clientGroup: any EventLoopGroup) async throws -> (Double, CPUTime.Split) {
            let sink = try await RawLoopback.makeSink(group: serverGroup, totalExpected: frameSize * count)
            let client = MessagingClient(host: "127.0.0.1", port: sink.port, registry: HandlerRegistry(), group: clientGroup)
            let clientTask = Task { try await client.run() }
            let connection = client.connection
            try await connection.waitUntilConnected()
            let serverLoop = try await sink.connectedLoop
            let result = try await measure(count: count, server: serverLoop, client: connection.eventLoop) {
                try await sendActions(count: count, on: connection)
                try await sink.done.get()
            }
            client.shutdown()
            try await clientTask.value
            try? await sink.channel.close()
            return result
        }

        /// A registry whose `start` handler counts, and a future that succeeds at the `count`th action.
        static func countingRegistry(count: Int, group: any EventLoopGroup) -> (HandlerRegistry, EventLoopFuture<Void>) {
            let registry = HandlerRegistry()
            let done = group.any().makePromise(of: Void.self)
            let received = Tally()
            registry.onAction("start") { _, _, _ in
                if received.count.add(1, ordering: .relaxed).newValue == count { done.succeed() }
            }
            return (registry, done.futureResult)
        }

        /// What the counting handler counts: an atomic word, as cheap as the
        /// baselines' plain counters (a lock here would be the bench's own cost, not the library's).
        final class Tally: Sendable {
            let count = Atomic<Int>(0)
        }

        /// Runs `work`, which returns once all `count` messages were handled;
        /// returns messages/s, and the CPU time each side used meanwhile.
        static func measure(
            count: Int,
            server: any EventLoop,
            client: any EventLoop,
            _ work: () async throws -> Void
        ) async throws -> (Double, CPUTime.Split) {
            let cpuStart = try await CPUTime.Split.now(server: server, client: client)
            let start = NIODeadline.now()
            try await work()
            let rate = Double(count) / NIODeadline.seconds(since: start)
            let cpu = try await CPUTime.Split.now(server: server, client: client).since(cpuStart)
            return (rate, cpu)
        }

        /// Writes the same bytes through a plain channel; returns frames/s equivalent.
        static func rawBlast(frame: ByteBuffer, count: Int, serverGroup: any EventLoopGroup, clientGroup: any EventLoopGroup) async throws -> Double {
            let pair = try await RawLoopback.makePair(
                serverGroup: serverGroup, clientGroup: clientGroup,
                requestSize: frame.readableBytes, responseSize: 0, totalExpected: frame.readableBytes * count
            )
            let start = NIODeadline.now()
            try await writeCopies(of: frame, count: count, to: pair.client)
            try await pair.serverDone.get()
            let rate = Double(count) / NIODeadline.seconds(since: start)
            await pair.close()
            return rate
        }

        /// Queues `count` of the measured actions on `connection`, at most two
        /// batches of 8192 ahead of the socket; with acknowledged delivery, at
        /// most two batches of 4096 ahead of the peer's acknowledgement (the
        /// resend window holds 16384 by default).
        static func sendActions(count: Int, on connection: Connection) async throws {
            let args: [JSONValue] = [1, "two", 3.5, nil, true]
            let kwargs: JSONObject = ["time": "1700000000.5"]
            let batch = connection.deliversAcknowledged ? 4096 : 8192
            var checkpoint: SendReceipt?
            for i in 0..<count {
                let receipt = try connection.enqueueMessage("start", args: args, kwargs: kwargs)
                if i % batch == batch - 1 {
                    try await checkpoint?.delivered()
                    checkpoint = receipt
                }
            }
        }

        /// Writes `count` copies of `frame` to a plain channel, 8192 per write,
        /// at most two writes ahead of the socket.
        static func writeCopies(of frame: ByteBuffer, count: Int, to channel: any Channel) async throws {
            let perWrite = 8192
            var batch = ByteBuffer()
            for _ in 0..<perWrite { batch.writeImmutableBuffer(frame) }
            var sent = 0
            var previous: EventLoopFuture<Void>?
            while sent < count {
                let n = min(perWrite, count - sent)
                let chunk = n == perWrite ? batch : batch.getSlice(at: batch.readerIndex, length: n * frame.readableBytes)!
                let write = channel.eventLoop.makePromise(of: Void.self)
                channel.writeAndFlush(chunk, promise: write)
                try await previous?.get()
                previous = write.futureResult
                sent += n
            }
        }
    }
}
