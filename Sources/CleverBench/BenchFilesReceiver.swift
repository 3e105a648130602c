import ArgumentParser
import CleverMessaging
import NIOCore
import NIOPosix

extension Bench {
    /// The receiving side of `bench files`, run as a second process (not for direct use).
    struct FilesReceiver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "files-receiver",
            abstract: "The receiver process of `bench files`.",
            shouldDisplay: false
        )

        @Option var root: String
        @Option var rawBytes: Int64

        func run() async throws {
            let registry = HandlerRegistry()
            registry.onRequest("id") { _, _, _ in "bench-receiver" }
            var configuration = ConnectionConfiguration()
            configuration.filePolicy = try FilePolicy(allowedRoots: [root])
            let server = MessagingServer(host: "127.0.0.1", port: 0, registry: registry, configuration: configuration)
            let serverTask = Task { try await server.run() }
            let port = try await server.localAddress().port!
            let group = MultiThreadedEventLoopGroup.singleton
            let total = Int(rawBytes)
            let sink = try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let done = channel.eventLoop.makePromise(of: Void.self)
                        done.succeed()
                        try channel.pipeline.syncOperations.addHandler(
                            RawLoopback.CountingServerHandler(requestSize: total, responseSize: 1, totalExpected: .max, done: done)
                        )
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            BenchOutput.write("{\"port\": \(port), \"raw_port\": \(sink.localAddress!.port!)}\n")
            await ParentInput.quit()
            server.shutdown()
            try? await serverTask.value
            try? await sink.close()
            BenchOutput.write("{\"peak_rss\": \(Files.peakRSS())}\n")
        }
    }
}
