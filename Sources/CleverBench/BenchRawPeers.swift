import ArgumentParser
import CleverMessaging
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

extension Bench {
    /// `clever-msg bench raw-peers`: the other end of `bench swarm`'s raw baseline (hidden).
    struct RawPeers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "raw-peers",
            abstract: "N plain TCP peers for bench swarm's baseline (used by bench swarm).",
            shouldDisplay: false
        )

        @Option(help: "The raw server, HOST:PORT.")
        var server: String

        @Option(help: "How many connections.")
        var count: Int

        @Option(help: "Bytes of the broadcast frame.")
        var frameSize: Int

        @Option(help: "Bytes of the request that follows it.")
        var requestSize: Int

        @Option(help: "Bytes each peer answers the request with.")
        var replySize: Int

        /// Counts what every connection received; prints when all have the frame.
        final class Tally: Sendable {
            private let counts = NIOLockedValueBox((connected: 0, framed: 0))
            let total: Int

            init(total: Int) {
                self.total = total
            }

            func connected() {
                if counts.withLockedValue({ $0.connected += 1; return $0.connected }) == total {
                    BenchOutput.writeLine(["raw_connected": .integer(total)])
                }
            }

            /// Prints the running count each time every peer has one more frame.
            func framed() {
                let framed = counts.withLockedValue { $0.framed += 1; return $0.framed }
                if framed % total == 0 {
                    BenchOutput.writeLine(["raw_broadcast": .integer(framed)])
                }
            }
        }

        /// One peer: notes the frame, answers the request.
        final class Peer: ChannelInboundHandler {
            typealias InboundIn = ByteBuffer
            typealias OutboundOut = ByteBuffer
            let tally: Tally
            let frameSize: Int
            let requestSize: Int
            let reply: ByteBuffer
            var received = 0
            var framed = false

            init(tally: Tally, frameSize: Int, requestSize: Int, reply: ByteBuffer) {
                self.tally = tally
                self.frameSize = frameSize
                self.requestSize = requestSize
                self.reply = reply
            }

            func channelActive(context: ChannelHandlerContext) {
                tally.connected()
                context.fireChannelActive()
            }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                // Each round is one frame and then one request.
                received += unwrapInboundIn(data).readableBytes
                while true {
                    if !framed, received >= frameSize {
                        framed = true
                        tally.framed()
                    }
                    guard framed, received >= frameSize + requestSize else { break }
                    context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
                    received -= frameSize + requestSize
                    framed = false
                }
            }
        }

        /// The address in `text`, IPADDRESS:PORT (`bench swarm` gives its raw server's as 127.0.0.1:PORT).
        static func address(_ text: String) throws -> SocketAddress {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
                throw ValidationError("expected IPADDRESS:PORT, got \(text)")
            }
            return try SocketAddress(ipAddress: String(text[..<colon]), port: port)
        }

        func run() async throws {
            _ = try FileLimit.raiseToHard()
            let tally = Tally(total: count)
            let reply = ByteBuffer(repeating: UInt8(ascii: "r"), count: replySize)
            let address = try Self.address(server)
            let (frameSize, requestSize) = (self.frameSize, self.requestSize)
            @Sendable func connect() async throws -> any Channel {
                try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                Peer(tally: tally, frameSize: frameSize, requestSize: requestSize, reply: reply)
                            )
                        }
                    }
                    .connect(to: address)
                    .get()
            }
            // At most 256 connects in flight, as the swarm paces its drones.
            var channels: [any Channel] = []
            channels.reserveCapacity(count)
            try await withThrowingTaskGroup(of: (any Channel).self) { group in
                var started = 0
                while started < min(256, count) {
                    group.addTask { try await connect() }
                    started += 1
                }
                while let channel = try await group.next() {
                    channels.append(channel)
                    if started < count {
                        group.addTask { try await connect() }
                        started += 1
                    }
                }
            }
            await ParentInput.quit()
            for channel in channels { channel.close(promise: nil) }
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            BenchOutput.writeLine(["peak_rss": .integer(usage.ru_maxrss * 1024)])
        }
    }
}
