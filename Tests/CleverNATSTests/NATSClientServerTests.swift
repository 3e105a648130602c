import CleverTestSupport
import NIOCore
import Testing

@testable import CleverNATS

/// End-to-end: the client against real `nats-server` processes on loopback ports.
@Suite(.serialized, .needsNATSServer, .timeLimit(.minutes(2))) struct NATSClientServerTests {
    func makeClient(_ urls: [String], configure: (inout NATSConfiguration) -> Void = { _ in }) throws -> NATSClient {
        var configuration = try NATSConfiguration(urls: urls)
        configuration.reconnectDelay = .milliseconds(50)
        configuration.maximumReconnectDelay = .milliseconds(400)
        configuration.maximumReconnectAttempts = 100
        configure(&configuration)
        return NATSClient(configuration: configuration)
    }

    /// Waits for the first event `matching`: `nil` when the events end or 30 s pass first.
    func waitFor(_ client: NATSClient, _ matching: @escaping @Sendable (NATSEvent) -> Bool) async -> NATSEvent? {
        await firstEvent(in: client.events, within: .seconds(30), where: matching)
    }

    @Test func publishSubscribeRoundTripWithHeaders() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        let client = try makeClient([server.url])
        try await client.connect()
        let subscription = try await client.subscribe(to: "greet.*")
        var headers = NATSHeaders()
        headers.add("7", for: "X-Seq")
        try await client.publish("hello", to: "greet.joe")
        try await client.publish("with headers", to: "greet.ann", replyTo: "back", headers: headers)
        try await client.flush()
        var iterator = subscription.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        #expect(first.subject == "greet.joe" && first.string == "hello" && first.headers == nil)
        let second = try #require(try await iterator.next())
        #expect(second.replyTo == "back" && second.headers?["x-seq"] == "7" && second.string == "with headers")
        await client.close()
        #expect(try await iterator.next() == nil)
    }

    @Test func maximumMessagesEndTheSubscription() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        let client = try makeClient([server.url])
        try await client.connect()
        let subscription = try await client.subscribe(to: "count")
        await subscription.unsubscribe(afterMessages: 3)
        for index in 0..<5 { try await client.publish("\(index)", to: "count") }
        var received: [String] = []
        for try await message in subscription { received.append(message.string) }
        #expect(received == ["0", "1", "2"])
        await client.close()
    }

    @Test func aQueueGroupSplitsTheLoad() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        let publisher = try makeClient([server.url])
        let workers = [try makeClient([server.url]), try makeClient([server.url])]
        try await publisher.connect()
        var subscriptions: [NATSSubscription] = []
        for worker in workers {
            try await worker.connect()
            subscriptions.append(try await worker.subscribe(to: "jobs", queueGroup: "workers"))
            try await worker.flush()
        }
        let total = 200
        for index in 0..<total { try await publisher.publish("\(index)", to: "jobs") }
        try await publisher.flush()
        let counts = await withThrowingTaskGroup(of: Void.self) { group in
            let (merged, continuation) = AsyncStream.makeStream(of: Int.self)
            for (index, subscription) in subscriptions.enumerated() {
                group.addTask { for try await _ in subscription { continuation.yield(index) } }
            }
            var counts = [0, 0]
            for await index in merged {
                counts[index] += 1
                if counts.reduce(0, +) == total { break }
            }
            group.cancelAll()
            return counts
        }
        #expect(counts.reduce(0, +) == total)
        #expect(counts.allSatisfy { $0 > 0 }, "\(counts)")
        for client in workers + [publisher] { await client.close() }
    }

    @Test func requestReplyNoRespondersAndTimeout() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        let responder = try makeClient([server.url])
        let requester = try makeClient([server.url])
        try await responder.connect()
        try await requester.connect()
        let service = try await responder.subscribe(to: "svc.echo")
        let silent = try await responder.subscribe(to: "svc.silent")
        try await responder.flush()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await request in service {
                    try await responder.publish("echo: " + request.string, to: request.replyTo ?? "nowhere")
                }
            }
            for index in 0..<3 {
                let reply = try await requester.request("\(index)", to: "svc.echo", timeout: .seconds(5))
                #expect(reply.string == "echo: \(index)")
            }
            await #expect(throws: NATSError.noResponders(subject: "svc.nobody")) {
                _ = try await requester.request("x", to: "svc.nobody", timeout: .seconds(5))
            }
            let start = ContinuousClock.now
            await #expect(throws: NATSError.timedOut(subject: "svc.silent", timeout: .milliseconds(200))) {
                _ = try await requester.request("x", to: "svc.silent", timeout: .milliseconds(200))
            }
            #expect(ContinuousClock.now - start < .seconds(3))
            group.cancelAll()
        }
        _ = silent
        await requester.close()
        await responder.close()
    }

    @Test func tokenAuthenticationAcceptedAndRefused() async throws {
        let server = try await NATSServerProcess(extra: ["--auth", "s3cret"])
        defer { server.stop() }
        let good = try makeClient([server.url]) { $0.authentication = .token("s3cret") }
        try await good.connect()
        try await good.flush()
        await good.close()
        let inURL = try makeClient(["nats://s3cret@127.0.0.1:\(server.port)"])
        try await inURL.connect()
        await inURL.close()
        let bad = try makeClient([server.url]) { $0.authentication = .token("wrong") }
        await #expect(throws: NATSError.authorizationViolation) { try await bad.connect() }
        let none = try makeClient([server.url])
        await #expect(throws: NATSError.authorizationViolation) { try await none.connect() }
    }

    @Test func userPasswordAuthentication() async throws {
        let server = try await NATSServerProcess(extra: ["--user", "joe", "--pass", "pw"])
        defer { server.stop() }
        let good = try makeClient([server.url]) { $0.authentication = .userPassword(user: "joe", password: "pw") }
        try await good.connect()
        await good.close()
        let bad = try makeClient(["nats://joe:nope@127.0.0.1:\(server.port)"])
        await #expect(throws: NATSError.authorizationViolation) { try await bad.connect() }
    }

    @Test func noServerIsATypedError() async throws {
        let port = try await NATSServerProcess.freePort()
        let client = try makeClient(["nats://127.0.0.1:\(port)"])
        await #expect(throws: NATSError.self) { try await client.connect() }
        await #expect(throws: NATSError.closed) { try await client.publish("x", to: "y") }
    }

    @Test func reconnectsAfterARestartAndDeliversBufferedPublishes() async throws {
        var server = try await NATSServerProcess()
        let port = server.port
        let client = try makeClient([server.url])
        try await client.connect()
        let subscription = try await client.subscribe(to: "buffered.>")
        try await client.flush()
        server.stop()
        _ = await waitFor(client) { if case .disconnected = $0 { true } else { false } }
        for index in 0..<10 { try await client.publish("\(index)", to: "buffered.\(index)") }
        server = try await NATSServerProcess(port: port)
        defer { server.stop() }
        _ = await waitFor(client) { if case .reconnected = $0 { true } else { false } }
        var received: [String] = []
        for try await message in subscription {
            received.append(message.string)
            if received.count == 10 { break }
        }
        #expect(received == (0..<10).map(String.init))
        await client.close()
    }

    @Test func aFullReconnectBufferIsATypedError() async throws {
        let server = try await NATSServerProcess()
        let client = try makeClient([server.url]) { $0.reconnectBufferBytes = 64 }
        try await client.connect()
        server.stop()
        _ = await waitFor(client) { if case .disconnected = $0 { true } else { false } }
        try await client.publish("0123456789", to: "a")
        await #expect(throws: NATSError.reconnectBufferFull(buffered: 22, limit: 64)) {
            try await client.publish(String(repeating: "x", count: 60), to: "a")
        }
        await #expect(throws: NATSError.notConnected) { try await client.flush() }
        await client.close()
    }

    @Test func aSlowConsumerIsATypedError() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        let client = try makeClient([server.url]) { $0.subscriptionBufferLimit = 4 }
        try await client.connect()
        let subscription = try await client.subscribe(to: "fast")
        for index in 0..<20 { try await client.publish("\(index)", to: "fast") }
        try await client.flush()
        var received = 0
        await #expect(throws: NATSError.slowConsumer(subject: "fast", limit: 4)) {
            for try await _ in subscription { received += 1 }
        }
        #expect(received == 4)
        await client.close()
    }

    @Test func clusterFailOverReconnectsToAnotherNode() async throws {
        let nodes = try await NATSServerProcess.cluster(of: 3)
        defer { for node in nodes { node.stop() } }
        // The client knows node 0 alone; the others come from the cluster's INFO.
        let client = try makeClient([nodes[0].url])
        let observer = try makeClient([nodes[2].url])
        try await client.connect()
        try await observer.connect()
        let seen = try await observer.subscribe(to: "fleet.>")
        try await observer.flush()
        nodes[0].stop()
        let event = await waitFor(client) { if case .reconnected = $0 { true } else { false } }
        guard case .reconnected(let server) = event else {
            Issue.record("no reconnect")
            return
        }
        #expect(server.port != nodes[0].port && nodes.map(\.port).contains(server.port))
        // The observer's interest reaches the client's new node over the cluster's
        // routes some time after its subscription did: core NATS drops what a node
        // publishes before then, so the client publishes until the observer sees it.
        let arrived = await withDeadline(.seconds(30), else: nil as String?) {
            await withTaskGroup(of: String?.self) { group in
                group.addTask { (try? await seen.first { _ in true })?.string }
                group.addTask {
                    while !Task.isCancelled {
                        try? await client.publish("after fail-over", to: "fleet.status")
                        try? await client.flush()
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }
        #expect(arrived == "after fail-over")
        await client.close()
        await observer.close()
    }
}
