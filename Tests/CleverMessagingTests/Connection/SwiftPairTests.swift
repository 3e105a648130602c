import CleverMessaging
import CleverTestSupport
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Swift server and Swift client over loopback: the extensions and the failure paths.
@Suite("Connection: Swift to Swift", .timeLimit(.minutes(1)))
struct SwiftPairTests {
    static func withPair(
        configuration: ConnectionConfiguration = .init(),
        clientConfiguration: ConnectionConfiguration? = nil,
        serverRegistry: HandlerRegistry = makeTestRegistry(),
        serverLogger: Logger = Logger(label: "clever.server"),
        clientLogger: Logger = Logger(label: "clever.client"),
        _ body: (MessagingServer, MessagingClient, Connection) async throws -> Void
    ) async throws {
        try await withPair(
            configuration: configuration, clientConfiguration: clientConfiguration, serverRegistry: serverRegistry,
            serverLogger: serverLogger, clientLogger: clientLogger, throughProxy: false
        ) { _, server, client, serverSide in
            try await body(server, client, serverSide)
        }
    }

    /// A server and a client of this library, linked directly or, with
    /// `throughProxy`, through a ``FaultProxy`` (handed to `body`), all on
    /// `loops` (default: the shared ones).
    static func withPair(
        configuration: ConnectionConfiguration = .init(),
        clientConfiguration: ConnectionConfiguration? = nil,
        serverRegistry: HandlerRegistry = makeTestRegistry(),
        serverLogger: Logger = Logger(label: "clever.server"),
        clientLogger: Logger = Logger(label: "clever.client"),
        throughProxy: Bool,
        loops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (FaultProxy?, MessagingServer, MessagingClient, Connection) async throws -> Void
    ) async throws {
        let server = MessagingServer(
            host: "127.0.0.1", port: 0, registry: serverRegistry, configuration: configuration, group: loops, logger: serverLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let address = try await server.localAddress()
            let proxy = throughProxy ? try await FaultProxy.start(to: address, group: loops) : nil
            let client = MessagingClient(
                host: "127.0.0.1",
                port: proxy?.port ?? address.port!,
                registry: makeTestRegistry(),
                configuration: clientConfiguration ?? configuration,
                reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50)),
                group: loops,
                logger: clientLogger
            )
            group.addTask { try await client.run() }
            do {
                try await client.connection.waitUntilConnected()
                let serverSide = try await server.waitForConnections(1)[0]
                try await body(proxy, server, client, serverSide)
            } catch {
                client.shutdown()
                server.shutdown()
                await proxy?.close()
                throw error
            }
            client.shutdown()
            server.shutdown()
            await proxy?.close()
            try await group.waitForAll()
        }
    }

    @Test("an unknown request gets an error reply at once (error extension)")
    func unknownRequestErrorReply() async throws {
        try await Self.withPair { _, client, _ in
            do {
                _ = try await client.connection.request("no_such_value", timeout: .seconds(5))
                Issue.record("expected an error reply")
            } catch {
                guard case .remote(let remote)? = error as? MessagingError else { Issue.record("got \(error)"); return }
                #expect(remote.code == RemoteError.Code.unknownRequest)
            }
        }
    }

    @Test("a throwing handler gives an error reply with its message")
    func handlerErrorReply() async throws {
        try await Self.withPair { _, client, _ in
            do {
                _ = try await client.connection.request("fail")
                Issue.record("expected an error reply")
            } catch {
                guard case .remote(let remote)? = error as? MessagingError else { Issue.record("got \(error)"); return }
                #expect(remote.code == RemoteError.Code.handlerFailed)
                #expect(remote.message.contains("always fails"))
            }
            let id = try await client.connection.request("id")
            #expect(id == "swiftcopter")
        }
    }

    @Test("without the extension announced, a failing request gets no reply (reference behaviour)")
    func noAnnouncementNoReply() async throws {
        var configuration = ConnectionConfiguration()
        configuration.announceExtensions = false
        try await Self.withPair(configuration: configuration) { _, client, _ in
            await #expect(throws: MessagingError.timedOut(requestedValue: "fail", requestID: "0001", timeout: .milliseconds(200))) {
                _ = try await client.connection.request("fail", timeout: .milliseconds(200))
            }
        }
    }

    @Test("async handlers, request ids, both directions")
    func asyncAndIDs() async throws {
        try await Self.withPair { _, client, serverSide in
            let tag = newSlowTag()
            async let slow = client.connection.request("slow", kwargs: ["tag": .string(tag)])
            #expect(await slowHandlerTags.wait { $0.started.contains(tag) })
            releaseSlowHandler(tag)
            #expect(try await slow == ["args": [], "kwargs": ["tag": .string(tag)]])
            let id = try await serverSide.request("id")
            #expect(id == "swiftcopter")
        }
    }

    /// Pings off for the tests that count the pending table: its entries are then the test's own
    /// (a ping is added and recorded as the link's ping in two turns of the lock, between which a
    /// loaded machine's reader can count it).
    static let noPings = ConnectionConfiguration(pingInterval: nil)

    @Test("a cancelled request fails with .cancelled and leaves no pending entry")
    func cancellation() async throws {
        try await Self.withPair(configuration: Self.noPings) { _, client, _ in
            let tag = newSlowTag()
            let task = Task { try await client.connection.request("slow", kwargs: ["tag": .string(tag)]) }
            // Pending for sure: the peer's handler runs.
            let started = await slowHandlerTags.wait { $0.started.contains(tag) }
            #expect(started)
            task.cancel()
            await #expect(throws: MessagingError.cancelled) { _ = try await task.value }
            #expect(client.connection.pendingRequestCount == 0)
            releaseSlowHandler(tag)
        }
    }

    @Test("a request made by a task cancelled already fails with .cancelled, and is not left waiting")
    func cancelledBeforeMade() async throws {
        try await Self.withPair(configuration: Self.noPings) { _, client, _ in
            let gate = AsyncStream<Void>.makeStream()
            let task = Task {
                for await _ in gate.stream { break }
                return try await client.connection.request("echo", args: [1], timeout: .seconds(30))
            }
            task.cancel()
            gate.continuation.yield()
            await #expect(throws: MessagingError.cancelled) { _ = try await task.value }
            #expect(client.connection.pendingRequestCount == 0)
            let echoed = try await client.connection.request("echo", args: [2])
            #expect(echoed == ["args": [2], "kwargs": [:]])
        }
    }

    @Test("a late reply after a timeout is dropped, and the next request still works")
    func lateReply() async throws {
        try await Self.withPair { _, client, _ in
            let tag = newSlowTag()
            await #expect(throws: MessagingError.self) {
                _ = try await client.connection.request("slow", kwargs: ["tag": .string(tag)], timeout: .milliseconds(50))
            }
            // The late reply is written when the handler is released, ahead of the next request's reply.
            releaseSlowHandler(tag)
            let answered = await slowHandlerTags.wait { $0.finished.contains(tag) }
            #expect(answered)
            let echoed = try await client.connection.request("echo", args: [1])
            #expect(echoed == ["args": [1], "kwargs": [:]])
        }
    }

    @Test("the callback form (get_response) passes value and callback arguments")
    func callbackForm() async throws {
        try await Self.withPair { _, client, _ in
            let box = Watched<(JSONValue, [JSONValue], JSONObject)?>(nil)
            try client.connection.getResponse("id", callbackArgs: ["a"], callbackKwargs: ["k": 1]) { _, value, args, kwargs in
                box.update { $0 = (value, args, kwargs) }
            }
            await box.wait(timeout: .seconds(5)) { $0 != nil }
            let got = try #require(box.value)
            #expect(got.0 == "swiftcopter")
            #expect(got.1 == ["a"])
            #expect(got.2 == ["k": 1])
        }
    }

    @Test("broadcast encodes once and reaches every connection")
    func broadcast() async throws {
        let registry = makeTestRegistry()
        let recorders = (0..<3).map { _ in HandlerRegistry() }
        let received = Watched(0)
        for r in recorders {
            r.onAction("led_fill") { _, _, kwargs in
                if kwargs["color"] == "red" { received.update { $0 += 1 } }
            }
        }
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: registry)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.localAddress().port!
            let clients = recorders.map { MessagingClient(host: "127.0.0.1", port: port, registry: $0) }
            for client in clients { group.addTask { try await client.run() } }
            _ = try await server.waitForConnections(3)
            let results = try server.broadcast("led_fill", kwargs: ["color": "red"])
            #expect(results.count == 3)
            for (_, result) in results { try await result.get().written() }
            await received.wait(timeout: .seconds(5)) { $0 >= 3 }
            #expect(received.value == 3)
            for client in clients { client.shutdown() }
            server.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("closing fails pending requests with .closed, and sending afterwards throws")
    func closeFailsPending() async throws {
        try await Self.withPair { _, client, _ in
            let tag = newSlowTag()
            let task = Task { try await client.connection.request("slow", kwargs: ["tag": .string(tag)], timeout: .seconds(10)) }
            let started = await slowHandlerTags.wait { $0.started.contains(tag) }
            #expect(started)
            await client.connection.close()
            await #expect(throws: MessagingError.closed) { _ = try await task.value }
            #expect(throws: MessagingError.closed) { try client.connection.enqueueMessage("test") }
            releaseSlowHandler(tag)
        }
    }

    @Test("with resumeQueue off, sending while disconnected fails at once")
    func notConnected() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let connection = Connection(eventLoop: group.any(), registry: HandlerRegistry())
        #expect(throws: MessagingError.notConnected) { try connection.enqueueMessage("test") }
        // Requests may wait for a link: resendRequests is on by default.
        let receipt = Task { try await connection.request("id", timeout: .milliseconds(50)) }
        await #expect(throws: MessagingError.self) { _ = try await receipt.value }
    }

    @Test("with resumeQueue on, frames queued while disconnected go out on the next link")
    func resumeQueue() async throws {
        var configuration = ConnectionConfiguration()
        configuration.resumeQueue = true
        let registry = makeTestRegistry()
        let recorder = ActionRecorder(recording: ["test"], on: registry)
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: registry)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.localAddress().port!
            let client = MessagingClient(host: "127.0.0.1", port: port, registry: HandlerRegistry(), configuration: configuration)
            // Queued before any link exists.
            let receipt = try client.connection.enqueueMessage("test", args: ["early"])
            group.addTask { try await client.run() }
            try await receipt.written()
            let got = try await recorder.waitFor(count: 1)
            #expect(got[0].args == ["early"])
            client.shutdown()
            server.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("the send queue is bounded: over the limit, sends fail with .queueFull")
    func queueBound() async throws {
        var configuration = ConnectionConfiguration()
        configuration.resumeQueue = true
        configuration.maximumQueuedBytes = 10_000
        let connection = Connection(eventLoop: MultiThreadedEventLoopGroup.singleton.any(), registry: HandlerRegistry(), configuration: configuration)
        var failures: [MessagingError] = []
        for _ in 0..<200 {
            do { try connection.enqueueMessage("test", args: [.string(String(repeating: "x", count: 100))]) } catch { failures.append(error) }
        }
        #expect(!failures.isEmpty)
        guard case .queueFull(_, let limit)? = failures.first else { Issue.record("got \(failures)"); return }
        #expect(limit == 10_000)
        await connection.close()
    }

    @Test("a malformed frame closes only the connection that sent it")
    func badFrameClosesOnlyThatConnection() async throws {
        try await Self.withPair { server, client, _ in
            let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: try await server.localAddress().port!).get()
            _ = try await server.waitForConnections(2)
            var garbage = ByteBuffer()
            garbage.writeInteger(UInt16(5))
            garbage.writeString("{oops")
            try await raw.writeAndFlush(garbage)
            try await raw.closeFuture.get()
            #expect(try await client.connection.request("id") == "swiftcopter")
        }
    }
}

@Suite("Connection: application ping", .timeLimit(.minutes(1)))
struct PingTests {
    @Test("a peer of this library that stops answering pings loses its link; a live one keeps it")
    func deadPeerDetected() async throws {
        var configuration = ConnectionConfiguration()
        configuration.pingInterval = .milliseconds(100)
        configuration.pingTimeout = .seconds(2)
        configuration.keepalive.enabled = false
        let linkLog = LogMessages()
        try await SwiftPairTests.withPair(
            configuration: configuration, serverLogger: linkLog.logger("clever.server"), clientLogger: linkLog.logger("clever.client")
        ) { _, client, serverSide in
            // Both sides have seen the capabilities key after one exchange.
            _ = try await client.connection.request("id")
            _ = try await serverSide.request("id")
            // The link outlives several pings answered (100 ms apart when idle). Either
            // side may be the one that pings: a ping and its answer are progress for the
            // other side, which then finds the link busy and need not ping.
            #expect(await linkLog.wait(for: "ping answered", count: 5))
            #expect(client.connection.linkCount == 1, "a live peer must not be dropped")
            #expect(client.connection.isConnected)
        }
        // A silent peer that showed the capabilities key: the server drops it.
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: HandlerRegistry(), configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.localAddress().port!
            let links = server.events()
            let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            var hello = ByteBuffer()
            var writer = FrameWriter(marker: ExtensionHeader.capabilities)
            try writer.write(.action("hello"), into: &hello)
            try await raw.writeAndFlush(hello)
            // TCP keepalive is off in this configuration, so only the ping can end the link
            // (the suite's time limit fails the test if it never does).
            try await raw.closeFuture.get()
            #expect(await firstEvent(in: links) { if case .disconnected = $0 { true } else { false } } != nil)
            #expect(server.connections.isEmpty)
            server.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("pings are answered by the library itself and never reach the registry")
    func pingAnswered() async throws {
        try await SwiftPairTests.withPair { _, client, _ in
            _ = try await client.connection.request("id")
            let value = try await client.connection.request(ExtensionHeader.ping)
            #expect(value == true)
        }
    }
}
