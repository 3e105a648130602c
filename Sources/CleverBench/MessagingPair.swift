import CleverMessaging
import NIOCore

/// A loopback server and client of this library, each on its own event loop group.
struct MessagingPair {
    let server: MessagingServer
    let client: MessagingClient
    let serverSide: Connection
    let tasks: Task<Void, any Error>

    static func start(
        serverRegistry: HandlerRegistry,
        serverGroup: any EventLoopGroup,
        clientGroup: any EventLoopGroup,
        configuration: ConnectionConfiguration = .init()
    ) async throws -> MessagingPair {
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: serverRegistry, configuration: configuration, group: serverGroup)
        let serverTask = Task { try await server.run() }
        let port = try await server.localAddress().port!
        let client = MessagingClient(host: "127.0.0.1", port: port, registry: HandlerRegistry(), configuration: configuration, group: clientGroup)
        let clientTask = Task { try await client.run() }
        try await client.connection.waitUntilConnected()
        let serverSide = try await server.waitForConnections(1)[0]
        let tasks = Task {
            try await clientTask.value
            try await serverTask.value
        }
        return MessagingPair(server: server, client: client, serverSide: serverSide, tasks: tasks)
    }

    func stop() async throws {
        client.shutdown()
        server.shutdown()
        try await tasks.value
    }
}
