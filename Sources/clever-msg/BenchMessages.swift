import ArgumentParser
import CleverMessaging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

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
                """
        )

        @OptionGroup var options: Bench.Options

        @Option(help: "Messages per run.")
        var count: Int = 1_000_000

        func validate() throws {
            guard count > 0 else { throw ValidationError("--count must be positive") }
        }

        func run() async throws {
            let reporter = Reporter(json: options.json)
            reporter.warnIfDebug()
            let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let frame = Frame.action("start", args: [1, "two", 3.5, nil, true], kwargs: ["time": "1700000000.5"])
            var writer = FrameWriter()
            var one = ByteBuffer()
            try writer.write(frame, into: &one)
            reporter.note("frame: \(one.readableBytes) bytes; \(count) messages per run; best of 3 runs")

            var best = 0.0
            var bestRaw = 0.0
            var leastCPU: CPUTime.Split?
            for _ in 0..<3 {
                let (rate, cpu) = try await Self.oneWay(count: count, serverGroup: serverGroup, clientGroup: clientGroup)
                best = max(best, rate)
                if leastCPU.map({ cpu.server + cpu.client + cpu.rest < $0.server + $0.client + $0.rest }) ?? true { leastCPU = cpu }
                bestRaw = max(bestRaw, try await Self.rawBlast(frame: one, count: count, serverGroup: serverGroup, clientGroup: clientGroup))
            }
            try await serverGroup.shutdownGracefully()
            try await clientGroup.shutdownGracefully()
            if let leastCPU { reporter.note(leastCPU.note(per: count, what: "message (the run that used least)")) }
            reporter.report(
                Measurement(name: "messages.one_way", value: best, unit: "messages/s", baseline: bestRaw,
                            label: "one-way actions (end to end)")
            )
        }

        /// Sends `count` actions; returns messages/s until the server has handled
        /// them all, and the CPU time each side used meanwhile.
        static func oneWay(count: Int, serverGroup: any EventLoopGroup, clientGroup: any EventLoopGroup) async throws -> (Double, CPUTime.Split) {
            let registry = HandlerRegistry()
            let done = serverGroup.any().makePromise(of: Void.self)
            let received = NIOLockedValueBox(0)
            registry.onAction("start") { _, _, _ in
                let n = received.withLockedValue { $0 += 1; return $0 }
                if n == count { done.succeed() }
            }
            let pair = try await MessagingPair.start(serverRegistry: registry, serverGroup: serverGroup, clientGroup: clientGroup)
            let connection = pair.client.connection
            let args: [JSONValue] = [1, "two", 3.5, nil, true]
            let kwargs: JSONObject = ["time": "1700000000.5"]
            let serverLoop = pair.serverSide.eventLoop
            let clientLoop = connection.eventLoop
            let cpuStart = try await CPUTime.Split.now(server: serverLoop, client: clientLoop)
            let start = NIODeadline.now()
            var checkpoint: SendReceipt?
            for i in 0..<count {
                let receipt = try connection.enqueueMessage("start", args: args, kwargs: kwargs)
                if i % 8192 == 8191 {
                    // Backpressure: at most two batches of 8192 frames ahead of the socket.
                    try await checkpoint?.written()
                    checkpoint = receipt
                }
            }
            try await done.futureResult.get()
            let rate = Double(count) / NIODeadline.seconds(since: start)
            let cpu = try await CPUTime.Split.now(server: serverLoop, client: clientLoop).since(cpuStart)
            try await pair.stop()
            return (rate, cpu)
        }

        /// Writes the same bytes through a plain channel; returns frames/s equivalent.
        static func rawBlast(frame: ByteBuffer, count: Int, serverGroup: any EventLoopGroup, clientGroup: any EventLoopGroup) async throws -> Double {
            let perWrite = 8192
            var batch = ByteBuffer()
            for _ in 0..<perWrite { batch.writeImmutableBuffer(frame) }
            let pair = try await RawLoopback.makePair(
                serverGroup: serverGroup, clientGroup: clientGroup,
                requestSize: frame.readableBytes, responseSize: 0, totalExpected: frame.readableBytes * count
            )
            let start = NIODeadline.now()
            var sent = 0
            var previous: EventLoopFuture<Void>?
            while sent < count {
                let n = min(perWrite, count - sent)
                let chunk = n == perWrite ? batch : batch.getSlice(at: batch.readerIndex, length: n * frame.readableBytes)!
                let write = pair.client.eventLoop.makePromise(of: Void.self)
                pair.client.writeAndFlush(chunk, promise: write)
                try await previous?.get()
                previous = write.futureResult
                sent += n
            }
            try await pair.serverDone.get()
            let rate = Double(count) / NIODeadline.seconds(since: start)
            await pair.close()
            return rate
        }
    }
}
