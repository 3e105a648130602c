import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import CleverNATS

/// The client against a scripted loopback server that breaks the protocol:
/// every failure is a typed error in the client's events, never a crash.
@Suite struct NATSMisbehavingServerTests {
    /// What the scripted server does after the client's CONNECT.
    enum Script: Sendable {
        /// Answers the handshake PING, then no other.
        case stopAnsweringPings
        /// Answers the handshake, then sends these bytes.
        case sendAfterHandshake(String)
        /// Answers the handshake, then reads nothing more.
        case stopReading
    }

    final class ScriptedServerHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let script: Script
        private let pongsSent = NIOLockedValueBox(0)

        init(script: Script) { self.script = script }

        func channelActive(context: ChannelHandlerContext) {
            let info = #"INFO {"server_id":"FAKE","max_payload":1024,"headers":true}"# + "\r\n"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: info)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let text = String(buffer: unwrapInboundIn(data))
            guard text.contains("PING") else { return }
            let first = pongsSent.withLockedValue { count -> Bool in
                count += 1
                return count == 1
            }
            guard first else { return }
            var reply = "PONG\r\n"
            if case .sendAfterHandshake(let bytes) = script { reply += bytes }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
            if case .stopReading = script {
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            }
        }
    }

    func withScriptedServer(_ script: Script, _ body: (Int) async throws -> Void) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ScriptedServerHandler(script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            try await body(server.localAddress?.port ?? 0)
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }

    func firstDisconnect(of client: NATSClient) async -> NATSError?? {
        for await event in client.events {
            if case .disconnected(let error) = event { return .some(error) }
        }
        return nil
    }

    @Test func aServerThatStopsAnsweringPingsIsStale() async throws {
        try await withScriptedServer(.stopAnsweringPings) { port in
            var configuration = try NATSConfiguration(urls: ["nats://127.0.0.1:\(port)"])
            configuration.pingInterval = .milliseconds(30)
            configuration.maximumPingsOutstanding = 2
            let client = NATSClient(configuration: configuration)
            try await client.connect()
            #expect(await firstDisconnect(of: client) == .some(.staleConnection(count: 2)))
            await client.close()
        }
    }

    @Test func aServerThatStopsReadingFillsTheOutboundBufferToItsLimit() async throws {
        try await withScriptedServer(.stopReading) { port in
            var configuration = try NATSConfiguration(urls: ["nats://127.0.0.1:\(port)"])
            configuration.maximumPendingWriteBytes = 64 * 1024
            let client = NATSClient(configuration: configuration)
            try await client.connect()
            let payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: 1000)
            await #expect(throws: NATSError.outboundBufferFull(limit: 64 * 1024)) {
                for _ in 0..<100_000 { try await client.publish(payload, to: "firehose") }
            }
            await client.close()
        }
    }

    @Test(arguments: [
        ("BOGUS\r\n", NATSError.Code.protocolViolation),
        ("MSG a 1 999999\r\n", .payloadTooLarge),
        ("MSG a 1 3\r\nabcdef\r\n", .protocolViolation),
        (String(repeating: "x", count: 70_000), .lineTooLong),
    ])
    func garbageFromTheServerIsATypedError(bytes: String, code: NATSError.Code) async throws {
        try await withScriptedServer(.sendAfterHandshake(bytes)) { port in
            let client = NATSClient(configuration: try NATSConfiguration(urls: ["nats://127.0.0.1:\(port)"]))
            try await client.connect()
            let error = await firstDisconnect(of: client)
            #expect(error??.code == code, "\(String(describing: error))")
            await client.close()
        }
    }

    @Test func anErrLineIsAServerErrorEvent() async throws {
        try await withScriptedServer(.sendAfterHandshake("-ERR 'Permissions Violation for Publish to \"x\"'\r\n")) { port in
            let client = NATSClient(configuration: try NATSConfiguration(urls: ["nats://127.0.0.1:\(port)"]))
            try await client.connect()
            for await event in client.events {
                if case .serverError(let error) = event {
                    #expect(error == .serverError(message: #"Permissions Violation for Publish to "x""#))
                    break
                }
            }
            await client.close()
        }
    }
}
