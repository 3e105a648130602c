import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A real `nats-server` on a loopback port, started and stopped by a test
/// (shared by the test targets that need one).
///
/// When `nats-server` is not installed, starting one throws, with a message
/// saying how to install it; suites marked ``Testing/Trait/needsNATSServer``
/// are then skipped, saying so, unless `CLEVER_REQUIRE_NATS=1`.
public final class NATSServerProcess {
    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "nats-server was not found on PATH, /usr/sbin or /usr/bin: these tests need a real server; "
                + "install it with `apt-get install -y nats-server` (Debian) or put it on PATH"
        }
    }

    public struct NotReady: Error, CustomStringConvertible {
        public var output: String
        public var description: String { "nats-server did not get ready; its output:\n\(output)" }
    }

    /// The client port it listens on.
    public private(set) var port: Int
    /// The route port it listens on, for a server started with `--cluster …:-1` (see ``cluster(of:)``).
    public private(set) var routePort: Int?
    /// Its command line's arguments.
    public let arguments: [String]
    private let process: SpawnedProcess
    private let output = NIOLockedValueBox(Output())

    private struct Output {
        var text = ""
        var waiters: [(needle: String, count: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        /// The log ended: the server exited.
        var ended = false
    }

    public static func executable() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/sbin"]
        for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/nats-server") {
            return directory + "/nats-server"
        }
        throw Missing()
    }

    /// A loopback TCP port nobody listens on now.
    public static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }

    /// Starts `nats-server -a 127.0.0.1 -p port` plus `extra` arguments and waits until it is ready.
    /// Without `port` the server picks a free one itself (`-p -1`) and says which in its log,
    /// so no other process can take the port between its choice and its use.
    public init(port: Int? = nil, extra: [String] = []) async throws {
        let executable = try Self.executable()
        self.port = port ?? -1
        self.arguments = ["-a", "127.0.0.1", "-p", "\(port ?? -1)"] + extra
        // Under `setpriv --pdeathsig TERM` (util-linux) the server also stops
        // when the test process dies without stopping it: a crash elsewhere must
        // not leave servers behind. The death signal follows the *thread* that
        // spawned it, so the server is spawned by the thread that reaps it,
        // which lives as long as the server does (a pool thread that retires
        // would take the server with it); see ``SpawnedProcess``.
        let setpriv = "/usr/bin/setpriv"
        let usesSetpriv = FileManager.default.isExecutableFile(atPath: setpriv)
        let pipe = try SpawnedProcess.pipe()
        do {
            process = try SpawnedProcess(
                executable: usesSetpriv ? setpriv : executable,
                arguments: usesSetpriv ? ["--pdeathsig", "TERM", executable] + arguments : arguments,
                standardOutput: .descriptor(pipe.write), standardError: .descriptor(pipe.write)
            )
        } catch {
            close(pipe.read)
            close(pipe.write)
            throw error
        }
        close(pipe.write)
        let output = self.output
        // The log is read by a thread of its own with blocking reads until the
        // end of the pipe (no dispatch source: one left watching a descriptor
        // that gets closed can bring the whole test process down).
        SpawnedProcess.readToEnd(pipe.read, name: "nats-server log") { data in
            if data.isEmpty {
                // The server exited: whoever still waits for a line of its log waits in vain.
                let (waiters, text) = output.withLockedValue { output in
                    output.ended = true
                    defer { output.waiters.removeAll() }
                    return (output.waiters.map(\.continuation), output.text)
                }
                for continuation in waiters { continuation.resume(throwing: NotReady(output: text)) }
                return
            }
            let ready = output.withLockedValue { output in
                output.text += String(decoding: data, as: UTF8.self)
                let text = output.text
                let (done, waiting) = output.waiters.partitioned { text.occurrences(of: $0.needle) >= $0.count }
                output.waiters = waiting
                return done.map(\.continuation)
            }
            for continuation in ready { continuation.resume() }
        }
        try await waitForOutput("Server is ready")
        if port == nil { self.port = try Self.listeningPort(in: output.withLockedValue { $0.text }, for: "client connections") }
        if extra.contains(where: { $0.hasSuffix(":-1") }) {
            try await waitForOutput("Listening for route connections on ")
            routePort = try Self.listeningPort(in: output.withLockedValue { $0.text }, for: "route connections")
        }
    }

    /// The port of the log's line "Listening for `what` on 127.0.0.1:PORT".
    private static func listeningPort(in log: String, for what: String) throws -> Int {
        let marker = "Listening for \(what) on "
        guard let line = log.split(separator: "\n").first(where: { $0.contains(marker) }),
            let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) })
        else { throw NotReady(output: log) }
        return port
    }

    public var url: String { "nats://127.0.0.1:\(port)" }

    /// Waits until the server's log shows `needle` `count` times (at most 30 s; a server
    /// that exits meanwhile ends the wait at once).
    public func waitForOutput(_ needle: String, count: Int = 1) async throws {
        let output = self.output
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let now = output.withLockedValue { output -> Result<Bool, NotReady> in
                if output.text.occurrences(of: needle) >= count { return .success(true) }
                if output.ended { return .failure(NotReady(output: output.text)) }
                output.waiters.append((needle, count, continuation))
                return .success(false)
            }
            switch now {
            case .success(true): continuation.resume()
            case .success(false): break
            case .failure(let notReady): continuation.resume(throwing: notReady)
            }
            // A deadline for a server that neither gets there nor exits.
            DispatchQueue.global().asyncAfter(deadline: .now() + 30) {
                let late = output.withLockedValue { output -> (CheckedContinuation<Void, any Error>, String)? in
                    guard let index = output.waiters.firstIndex(where: { $0.needle == needle }) else { return nil }
                    return (output.waiters.remove(at: index).continuation, output.text)
                }
                if let (continuation, text) = late { continuation.resume(throwing: NotReady(output: text)) }
            }
        }
    }

    /// Stops the server (SIGTERM) and waits for it to exit.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}

extension String {
    fileprivate func occurrences(of needle: String) -> Int {
        components(separatedBy: needle).count - 1
    }
}

extension Array {
    fileprivate func partitioned(by isFirst: (Element) -> Bool) -> ([Element], [Element]) {
        var first: [Element] = []
        var second: [Element] = []
        for element in self {
            if isFirst(element) { first.append(element) } else { second.append(element) }
        }
        return (first, second)
    }
}
