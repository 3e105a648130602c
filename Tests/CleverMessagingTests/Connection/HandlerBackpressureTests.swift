import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import CleverMessaging

/// A peer that sends faster than `async` handlers finish: the link is no
/// longer read past `maximumConcurrentHandlers`, and nothing is lost.
@Suite("Connection: backpressure from async handlers", .timeLimit(.minutes(1)))
struct HandlerBackpressureTests {
    /// Holds handlers until released.
    actor Latch {
        private var open = false
        private var waiters: [CheckedContinuation<Void, Never>] = []

        func wait() async {
            if open { return }
            await withCheckedContinuation { waiters.append($0) }
        }

        func release() {
            open = true
            for waiter in waiters { waiter.resume() }
            waiters = []
        }
    }

    @Test("past maximumConcurrentHandlers the link is not read; once handlers finish, every request is answered")
    func handlersBoundReading() async throws {
        let latch = Latch()
        let running = NIOLockedValueBox((now: 0, most: 0))
        let registry = makeTestRegistry()
        registry.onRequest("held") { (_, args, _) async throws -> JSONValue in
            running.withLockedValue { $0.now += 1; $0.most = max($0.most, $0.now) }
            await latch.wait()
            running.withLockedValue { $0.now -= 1 }
            return .array(args)
        }
        var configuration = ConnectionConfiguration()
        configuration.maximumConcurrentHandlers = 8
        configuration.pingInterval = nil
        let serverLog = LogMessages()
        // How many times the server's log says it paused, and resumed, reading for its handlers.
        @Sendable func pauses(_ lines: [String]) -> (paused: Int, resumed: Int) {
            (
                lines.count { $0 == "more than 8 handlers running: reading paused" },
                lines.count { $0 == "handlers caught up: reading resumed" }
            )
        }
        try await SwiftPairTests.withPair(
            configuration: configuration, serverRegistry: registry, serverLogger: serverLog.logger("clever.server")
        ) { _, client, serverSide in
            let answers = NIOLockedValueBox([Int: JSONValue]())
            let all = client.connection.eventLoop.makePromise(of: Void.self)
            @Sendable func ask(_ range: Range<Int>) throws {
                for i in range {
                    try client.connection.getResponse("held", requestArgs: [.integer(i)], timeout: .seconds(30)) { _, value, _, _ in
                        let count = answers.withLockedValue { $0[i] = value; return $0.count }
                        if count == 100 { all.succeed() }
                    }
                }
            }
            // The first burst, written at once (queued in one turn of the client's event loop,
            // flushed together), starts more handlers than allowed: the server stops reading.
            try await client.connection.eventLoop.submit { try ask(0..<50) }.get()
            #expect(await serverLog.messages.wait(timeout: .seconds(30)) { pauses($0).paused > 0 })
            // The read under way when reading paused goes on to its end (NIO reads a few times per
            // wake-up): a task on the server's event loop runs once it is over.
            try await serverSide.eventLoop.submit {}.get()
            #expect(serverSide.state.withLockedValue { $0.handlers.paused })
            // So a second burst, and a plain request after it, are not read meanwhile.
            try ask(50..<100)
            try await client.connection.flushed()
            await #expect(throws: MessagingError.self) {
                _ = try await client.connection.request("id", timeout: .milliseconds(300))
            }
            // Handlers finish: reading starts again, and every request is answered once.
            await latch.release()
            try await all.futureResult.get()
            #expect(answers.withLockedValue { $0 } == Dictionary(uniqueKeysWithValues: (0..<100).map { ($0, [.integer($0)]) }))
            #expect(running.withLockedValue { $0.most } <= 50, "the second burst must wait for the first")
            // Every request was read: no pause comes after the last resume.
            #expect(await serverLog.messages.wait(timeout: .seconds(30)) { pauses($0).paused == pauses($0).resumed })
            #expect(!serverSide.state.withLockedValue { $0.handlers.paused })
            #expect(try await client.connection.request("id") == "swiftcopter")
            #expect(serverSide.state.withLockedValue { $0.handlers.running } == 0)
        }
    }
}
