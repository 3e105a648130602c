import CleverTestSupport
import NIOCore
import NIOPosix
import Testing

@testable import CleverMessaging

@Suite("Server: connection limit", .timeLimit(.minutes(1)))
struct ConnectionLimitTests {
    @Test("past maximumConnections a new connection is closed at once; a freed place is taken again")
    func limit() async throws {
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: makeTestRegistry(), maximumConnections: 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.localAddress().port!
            func connect() async throws -> any Channel {
                try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
            }
            let first = try await connect()
            let second = try await connect()
            _ = try await server.waitForConnections(2)
            // The third is accepted by the kernel, then closed by the server.
            let third = try await connect()
            try await third.closeFuture.get()
            #expect(server.connections.count == 2)
            #expect(first.isActive && second.isActive)

            // One leaves: the next one is served (its place is free once the server says it is gone).
            let events = server.events()
            try await first.close()
            let left = await firstEvent(in: events) { if case .disconnected = $0 { true } else { false } }
            #expect(left != nil)
            #expect(server.connections.count == 1)
            let fourth = try await connect()
            _ = try await server.waitForConnections(2)
            #expect(fourth.isActive)
            try await second.close()
            try await fourth.close()
            server.shutdown()
            try await group.waitForAll()
        }
    }
}
