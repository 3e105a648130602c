import ArgumentParser
import CleverNATS
import Foundation
import NIOCore
import NIOPosix

/// A `nats-server` child process on a free loopback port, for `bench fleet`.
struct NATSServerChild {
    let process: Process
    let port: Int

    var url: String { "nats://127.0.0.1:\(port)" }
    var pid: Int32 { process.processIdentifier }

    /// Where `nats-server` is: on `PATH`, or where Debian's package puts it.
    static func executable() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/sbin"]
        for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/nats-server") {
            return directory + "/nats-server"
        }
        throw ValidationError(
            "bench fleet needs nats-server, which was not found on PATH, /usr/sbin or /usr/bin: "
                + "install it with `apt-get install -y nats-server` (Debian) or put it on PATH")
    }

    /// Starts `nats-server -a 127.0.0.1 -p PORT` and waits (up to 10 s) until a client can connect.
    static func start() async throws -> NATSServerChild {
        let executable = try executable()
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress?.port ?? 0
        try await probe.close()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-a", "127.0.0.1", "-p", "\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let child = NATSServerChild(process: process, port: port)
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            var configuration = try NATSConfiguration(urls: [child.url])
            configuration.maximumReconnectAttempts = 0
            let client = NATSClient(configuration: configuration)
            do {
                try await client.connect()
                await client.close()
                return child
            } catch {
                await client.close()
                guard process.isRunning, ContinuousClock.now < deadline else {
                    child.stop()
                    throw ValidationError("nats-server did not start on 127.0.0.1:\(port): \(error)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Stops the server and waits for it to exit.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
