import ArgumentParser
import CleverMessaging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

extension Bench {
    /// `clever-msg bench requests`: request round trips over loopback.
    struct Requests: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Request latency (p50/p99) vs raw TCP ping-pong, and pipelined requests/s.",
            discussion: """
                Sequential: one request in flight at a time, --sequential round trips; the \
                baseline is a ping-pong of the same byte counts through plain NIO channels. \
                Pipelined: --pipelined requests in flight at once through get_response \
                callbacks; every reply is checked against its request (lost and misrouted \
                must be 0); the baseline blasts the same requests raw and counts raw replies.
                """
        )

        @OptionGroup var options: Bench.Options

        @Option(help: "Sequential round trips per run.")
        var sequential: Int = 20_000

        /// Round trips per block of the sequential run (ours, then raw, alternating).
        static let sequentialBlock = 500

        @Option(help: "Requests in flight in the pipelined run.")
        var pipelined: Int = 200_000

        @Flag(inversion: .prefixedNo, help: "Whether client and server agree to acknowledged delivery (the library default; requests are not numbered, but the link carries the session).")
        var delivery = true

        func validate() throws {
            guard sequential > 0, pipelined > 0 else { throw ValidationError("counts must be positive") }
        }

        func run() async throws {
            let reporter = Reporter(json: options.json)
            reporter.warnIfDebug()
            let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let registry = HandlerRegistry()
            registry.onRequest("echo") { _, args, _ in .array(args) }
            var configuration = ConnectionConfiguration()
            configuration.delivery.isEnabled = delivery
            if !delivery { reporter.note("delivery: off") }
            let pair = try await MessagingPair.start(
                serverRegistry: registry, serverGroup: serverGroup, clientGroup: clientGroup, configuration: configuration
            )
            let connection = pair.client.connection

            // Sizes of one request and one reply, for the raw baselines.
            var writer = FrameWriter()
            var request = ByteBuffer()
            try writer.write(.request("echo", id: "0001", args: [1], extra: [ExtensionHeader.capabilities: 1]), into: &request)
            var reply = ByteBuffer()
            try writer.write(.response("echo", id: "0001", value: [1]), into: &reply)
            reporter.note("request \(request.readableBytes) bytes, reply \(reply.readableBytes) bytes")

            // Sequential, in alternating blocks of this library's round trips and raw
            // ones, so that both see the same machine (which core each thread is on,
            // clock speed, other load) instead of one running after the other.
            let raw = try await RawPingPong(
                request: request, replySize: reply.readableBytes, serverGroup: serverGroup, clientGroup: clientGroup
            )
            let warmUp = min(2000, sequential)
            for i in 0..<warmUp {
                _ = try await connection.request("echo", args: [.integer(i)])
                try await raw.roundTrip()
            }
            var latencies: [Int64] = []
            var rawLatencies: [Int64] = []
            latencies.reserveCapacity(sequential)
            rawLatencies.reserveCapacity(sequential)
            while latencies.count < sequential {
                let block = min(Self.sequentialBlock, sequential - latencies.count)
                for _ in 0..<block {
                    let start = NIODeadline.now()
                    _ = try await connection.request("echo", args: [.integer(latencies.count)])
                    latencies.append((NIODeadline.now() - start).nanoseconds)
                }
                for _ in 0..<block {
                    let start = NIODeadline.now()
                    try await raw.roundTrip()
                    rawLatencies.append((NIODeadline.now() - start).nanoseconds)
                }
            }
            await raw.close()
            let ours = Percentiles(latencies)
            let physical = Percentiles(rawLatencies)
            reporter.report(Measurement(name: "requests.sequential.p50", value: ours.p50 / 1000, unit: "µs", baseline: physical.p50 / 1000, label: "sequential request p50"))
            reporter.report(Measurement(name: "requests.sequential.p99", value: ours.p99 / 1000, unit: "µs", baseline: physical.p99 / 1000, label: "sequential request p99"))

            // Pipelined.
            let cpuStart = try await CPUTime.Split.now(server: pair.serverSide.eventLoop, client: connection.eventLoop)
            let (rate, lost, misrouted) = try await Self.pipelined(connection: connection, count: pipelined)
            let cpu = try await CPUTime.Split.now(server: pair.serverSide.eventLoop, client: connection.eventLoop).since(cpuStart)
            reporter.note(cpu.note(per: pipelined, what: "pipelined request"))
            let rawRate = try await Self.rawPipelined(
                request: request, replySize: reply.readableBytes, count: pipelined,
                serverGroup: serverGroup, clientGroup: clientGroup
            )
            reporter.report(Measurement(name: "requests.pipelined", value: rate, unit: "requests/s", baseline: rawRate, label: "pipelined requests"))
            reporter.report(Measurement(name: "requests.pipelined.lost", value: Double(lost + misrouted), unit: "requests", baseline: nil, label: "lost or misrouted"))
            try await pair.stop()
            try await serverGroup.shutdownGracefully()
            try await clientGroup.shutdownGracefully()
            if lost + misrouted > 0 { throw ExitCode(2) }
        }

        /// Sends `count` requests at once; returns requests/s, lost and misrouted counts.
        static func pipelined(connection: Connection, count: Int) async throws -> (Double, Int, Int) {
            let done = connection.eventLoop.makePromise(of: Void.self)
            let tally = NIOLockedValueBox((answered: 0, misrouted: 0))
            let start = NIODeadline.now()
            for i in 0..<count {
                try connection.getResponse("echo", requestArgs: [.integer(i)], timeout: .seconds(60)) { _, value, _, _ in
                    // Checked without building the expected `[i]` (an array allocated per reply is the bench's cost, not the library's).
                    var routed = false
                    if case .array(let echoed) = value, echoed.count == 1, echoed[0] == .integer(i) { routed = true }
                    let finished = tally.withLockedValue { t -> Bool in
                        t.answered += 1
                        if !routed { t.misrouted += 1 }
                        return t.answered == count
                    }
                    if finished { done.succeed() }
                }
                // Backpressure, as a producer should: the queue stays short (the
                // server stops reading when its replies pile up, so without this a
                // long enough run would fill this side's queue).
                if i % 8192 == 8191 { try await connection.flushed() }
            }
            let timeout = connection.eventLoop.scheduleTask(in: .seconds(60)) { done.succeed() }
            try await done.futureResult.get()
            timeout.cancel()
            let rate = Double(count) / NIODeadline.seconds(since: start)
            let (answered, misrouted) = tally.withLockedValue { ($0.answered, $0.misrouted) }
            return (rate, count - answered, misrouted)
        }

        /// The same requests blasted raw; the server answers each with reply-sized bytes.
        static func rawPipelined(
            request: ByteBuffer, replySize: Int, count: Int,
            serverGroup: any EventLoopGroup, clientGroup: any EventLoopGroup
        ) async throws -> Double {
            let pair = try await RawLoopback.makePair(
                serverGroup: serverGroup, clientGroup: clientGroup,
                requestSize: request.readableBytes, responseSize: replySize, totalExpected: .max
            )
            let loop = pair.client.eventLoop
            let handler = pair.clientHandler
            let all = loop.makePromise(of: Void.self)
            let start = NIODeadline.now()
            try await loop.submit { handler.value.expect(count, all) }.get()
            var batch = ByteBuffer()
            let perWrite = 4096
            for _ in 0..<perWrite { batch.writeImmutableBuffer(request) }
            var sent = 0
            while sent < count {
                let n = min(perWrite, count - sent)
                try await pair.client.writeAndFlush(batch.getSlice(at: 0, length: n * request.readableBytes)!)
                sent += n
            }
            try await all.futureResult.get()
            let rate = Double(count) / NIODeadline.seconds(since: start)
            await pair.close()
            return rate
        }
    }
}
