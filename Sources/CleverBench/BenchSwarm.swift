import ArgumentParser
import CleverMessaging
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

extension Bench {
    /// `clever-msg bench swarm`: a ground station here and a swarm in a second process.
    struct SwarmScale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "swarm",
            abstract: "Time to connect and identify N drones, broadcast to all, request telemetry from all; peak RSS.",
            discussion: """
                Runs a GroundStation in this process and `clever-msg swarm` in another, on \
                127.0.0.1. Measures: time until all N are connected and identified (id and \
                clover_dir asked of each, as the reference server does); a broadcast of one \
                action, until the swarm reports the last drone has it; one telemetry request \
                to every drone, until the last reply; peak RSS of both processes. The \
                baseline: the same frame, request and reply bytes fanned out over N plain \
                TCP connections from a second process (no framing, no decoding).
                """
        )

        @OptionGroup var options: Bench.Options

        @Option(help: "How many drones.")
        var count: Int = 1000

        @Option(help: "How many times to time the broadcast and the request-all (ours and the baseline's); the median is reported.")
        var rounds: Int = 1

        @Flag(inversion: .prefixedNo, help: "Whether the station pings idle drones (the library default: after 2 s idle).")
        var stationPings = true

        @Flag(inversion: .prefixedNo, help: "Whether the station measures each drone's clock when it connects and every 10 s (the library default).")
        var stationClocks = true

        @Flag(inversion: .prefixedNo, help: "Whether the station agrees to acknowledged delivery (the library default): each drone then acknowledges each action.")
        var delivery = true

        @Flag(help: "Run with token authentication: a generated token shared by the station and every drone.")
        var token = false
        @Flag(help: "Secure every link with TLS (a throwaway CA and a server certificate for 127.0.0.1, made in-process; the raw baseline stays plain).")
        var tls = false

        @Option(help: "Every swarm drone pushes its telemetry record this many times a second; then only the station's CPU share and the age of the latest records are measured, over --telemetry-window (no broadcast, no request-all). Default 0: off.")
        var telemetryHz: Double = 0

        @Option(help: "With --telemetry-hz: the seconds over which the station's CPU time is measured.")
        var telemetryWindow: Double = 5

        func validate() throws {
            guard telemetryHz >= 0, telemetryHz <= 1000 else { throw ValidationError("--telemetry-hz must be between 0 and 1000") }
            guard telemetryWindow > 0 else { throw ValidationError("--telemetry-window must be positive") }
            guard count >= 1 else { throw ValidationError("--count must be at least 1") }
            guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        }

        func run() async throws {
            let reporter = Reporter(json: options.json)
            reporter.warnIfDebug()
            _ = try FileLimit.raiseToHard()
            var logger = Logger(label: "clever.bench")
            logger.logLevel = .critical
            var configuration = ConnectionConfiguration()
            configuration.keepalive.enabled = false
            configuration.filePolicy = nil
            if !stationPings { configuration.pingInterval = nil }
            configuration.delivery.isEnabled = delivery
            var swarmArguments: [String] = []
            var tokenFile: String?
            defer { if let tokenFile { try? FileManager.default.removeItem(atPath: tokenFile) } }
            if token {
                let secret = Self.generateToken()
                let file = NSTemporaryDirectory() + "clever-bench-token-\(getpid())"
                guard FileManager.default.createFile(atPath: file, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw ValidationError("cannot write the token file \(file)")
                }
                tokenFile = file
                configuration.handshake.insert(TokenServerStage.Factory(store: TokenStore(sharedToken: secret)), at: 0)
                swarmArguments = ["--token-file", file]
            }
            var pem: (directory: String, ca: String, certificate: String, key: String)?
            if tls { pem = try ThrowawayCertificates().writeServerFiles() }
            defer { if let pem { try? FileManager.default.removeItem(atPath: pem.directory) } }
            let station = GroundStation(
                host: "127.0.0.1", port: 0, configuration: configuration, identifyTimeout: .seconds(120), logger: logger,
                tls: try pem.map { try TLSOptions.server(fromPEMFiles: $0.certificate, privateKeyFile: $0.key) },
                clock: stationClocks ? ClockConfiguration() : ClockConfiguration(interval: nil, measuresOnLink: false)
            )
            let stationTask = Task { try await station.run() }
            let port = try await station.server.localAddress().port!

            let start = NIODeadline.now()
            let swarm = try SwarmProcess(
                arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "\(count)", "--json"] + swarmArguments
                    // Always given: a swarm's drones push at 1 Hz unless told otherwise, and a broadcast benchmark measures none.
                    + ["--telemetry-hz", "\(telemetryHz)"]
                    + (pem.map { ["--tls-ca", $0.ca] } ?? [])
            )
            do {
                try await station.waitForDrones(count, timeout: .seconds(600))
            } catch {
                throw ValidationError("\(error) (drones identified)")
            }
            let identify = NIODeadline.seconds(since: start)
            if telemetryHz > 0 {
                let window = Duration.milliseconds(Int64((telemetryWindow * 1000).rounded()))
                let telemetry = try await Self.measureTelemetry(station: station, hertz: telemetryHz, window: window, expected: count)
                _ = try await swarm.finish()
                station.shutdown()
                try await stationTask.value
                reporter.report(Measurement(name: "swarm.identify_all", value: identify * 1000, unit: "ms", baseline: nil, label: "connect + identify all"))
                Self.report(telemetry, count: count, hertz: telemetryHz, window: window, to: reporter)
                if telemetry.dronesWithRecords < count { throw ExitCode(2) }
                return
            }

            var broadcasts: [Double] = []
            var requestAlls: [Double] = []
            var broadcastCPU: [Double] = []
            var requestAllCPU: [Double] = []
            var answers = DroneResults<JSONValue>([])
            var failures = 0
            var splits: [String] = []
            let pids = [getpid(), swarm.process.processIdentifier]
            for round in 1...rounds {
                let broadcastStart = NIODeadline.now()
                var (_, cpu) = try await ProcessCPU.measure(pids) {
                    _ = try station.server.broadcast("led_fill", kwargs: ["r": 255, "g": 0, "b": 128])
                    do {
                        try await swarm.waitFor { $0["action"] == "led_fill" && $0["received"] == .integer(count * round) }
                    } catch {
                        // A drone whose link dropped (a missed ping on an overloaded machine) misses the broadcast.
                        throw ValidationError(
                            "round \(round): the swarm did not report the broadcast on all \(count) drones; \(station.connectedCount) connected now"
                        )
                    }
                }
                broadcasts.append(NIODeadline.seconds(since: broadcastStart))
                broadcastCPU.append(cpu.reduce(0, +))
                splits.append("broadcast \(Self.milliseconds(cpu))")

                let requestStart = NIODeadline.now()
                (answers, cpu) = await ProcessCPU.measure(pids) { await station.requestAll("telemetry", as: JSONValue.self, timeout: .seconds(60)) }
                requestAlls.append(NIODeadline.seconds(since: requestStart))
                requestAllCPU.append(cpu.reduce(0, +))
                splits.append("request-all \(Self.milliseconds(cpu))")
                failures += count - answers.count { (try? $0.result.get()) != nil }
            }
            let broadcast = Self.median(broadcasts)
            let requestAll = Self.median(requestAlls)

            let swarmRSS = try await swarm.finish()
            station.shutdown()
            try await stationTask.value

            // The physical baseline: the same bytes fanned out over N plain TCP connections.
            let sampleReply = answers.lazy.compactMap { try? $0.result.get() }.first ?? .null
            let raw = try await Self.rawBaseline(count: count, rounds: rounds, sampleReply: sampleReply)
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)

            // What went wrong, by kind ("timed out", "connection lost"...): numbers stripped so that requests group.
            var kinds: [String: Int] = [:]
            for answer in answers {
                guard case .failure(let error) = answer.result else { continue }
                kinds[String("\(error)".filter { !$0.isNumber }.prefix(60)), default: 0] += 1
            }
            let breakdown = kinds.sorted { $0.value > $1.value }.map { "\($0.value) × \($0.key)" }.joined(separator: "; ")
            reporter.note("CPU ms per round, station + swarm: " + splits.joined(separator: ", "))
            reporter.note("CPU ms per round, raw server + raw peers: " + raw.splits.joined(separator: ", "))
            reporter.note("\(count) drones, \(rounds) round\(rounds == 1 ? "" : "s") (median shown); \(failures) telemetry requests failed" + (breakdown.isEmpty ? "" : " (\(breakdown))"))
            reporter.report(Measurement(name: "swarm.identify_all", value: identify * 1000, unit: "ms", baseline: nil, label: "connect + identify all"))
            reporter.report(Measurement(name: "swarm.broadcast", value: broadcast * 1000, unit: "ms", baseline: raw.broadcast * 1000, label: "broadcast until last drone has it"))
            reporter.report(Measurement(name: "swarm.request_all", value: requestAll * 1000, unit: "ms", baseline: raw.requestAll * 1000, label: "request telemetry from all"))
            // CPU time of both processes (station and swarm; raw server and raw peers): steadier than wall time on a busy machine.
            reporter.report(Measurement(
                name: "swarm.broadcast.cpu", value: Self.median(broadcastCPU) * 1000, unit: "ms", baseline: raw.broadcastCPU > 0 ? raw.broadcastCPU * 1000 : nil,
                label: "broadcast, CPU of both processes"
            ))
            reporter.report(Measurement(
                name: "swarm.request_all.cpu", value: Self.median(requestAllCPU) * 1000, unit: "ms", baseline: raw.requestAllCPU > 0 ? raw.requestAllCPU * 1000 : nil,
                label: "request-all, CPU of both processes"
            ))
            reporter.report(Measurement(name: "swarm.rss.station", value: Double(usage.ru_maxrss) / 1024, unit: "MiB", baseline: nil, label: "peak RSS, ground station"))
            reporter.report(Measurement(name: "swarm.rss.swarm", value: Double(swarmRSS) / 1_048_576, unit: "MiB", baseline: nil, label: "peak RSS, swarm"))
            if failures > 0 { throw ExitCode(2) }
        }

        /// Broadcast and request-all over N plain TCP connections from a `raw-peers`
        /// child process: the same frame, request and reply sizes, no framing or
        /// decoding. Returns both times in seconds.
        static func rawBaseline(
            count: Int, rounds: Int, sampleReply: JSONValue
        ) async throws -> (broadcast: Double, requestAll: Double, broadcastCPU: Double, requestAllCPU: Double, splits: [String]) {
            var frame = ByteBuffer()
            var request = ByteBuffer()
            var reply = ByteBuffer()
            let marked = FrameWriter(marker: ExtensionHeader.capabilities)
            try FrameWriter().writeAction("led_fill", args: [], kwargs: ["r": 255, "g": 0, "b": 128], into: &frame)
            try marked.writeRequest("telemetry", id: "0001", args: [], kwargs: [:], into: &request)
            try marked.writeResponse("telemetry", id: "0001", value: sampleReply, into: &reply)

            let server = try await RawFanOutServer.start(group: MultiThreadedEventLoopGroup.singleton)
            let peers = try SwarmProcess(arguments: [
                "bench", "raw-peers", "--server", "127.0.0.1:\(server.channel.localAddress!.port!)", "--count", "\(count)",
                "--frame-size", "\(frame.readableBytes)", "--request-size", "\(request.readableBytes)",
                "--reply-size", "\(reply.readableBytes)",
            ])
            try await peers.waitFor { $0["raw_connected"] != nil }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(60)
            while server.connectedCount < count {
                if clock.now >= deadline { throw ValidationError("only \(server.connectedCount) of \(count) raw peers connected") }
                try await Task.sleep(for: .milliseconds(2))
            }

            var broadcasts: [Double] = []
            var requestAlls: [Double] = []
            var broadcastCPU: [Double] = []
            var requestAllCPU: [Double] = []
            var splits: [String] = []
            let pids = [getpid(), peers.process.processIdentifier]
            for round in 1...rounds {
                let broadcastStart = NIODeadline.now()
                var (_, cpu) = try await ProcessCPU.measure(pids) {
                    server.writeToAll(frame)
                    try await peers.waitFor { $0["raw_broadcast"] == .integer(count * round) }
                }
                broadcasts.append(NIODeadline.seconds(since: broadcastStart))
                broadcastCPU.append(cpu.reduce(0, +))
                splits.append("broadcast \(milliseconds(cpu))")

                let requestStart = NIODeadline.now()
                (_, cpu) = try await ProcessCPU.measure(pids) { try await server.requestAll(request, replySize: reply.readableBytes) }
                requestAlls.append(NIODeadline.seconds(since: requestStart))
                requestAllCPU.append(cpu.reduce(0, +))
                splits.append("request-all \(milliseconds(cpu))")
            }

            _ = try await peers.finish()
            await server.close()
            return (median(broadcasts), median(requestAlls), median(broadcastCPU), median(requestAllCPU), splits)
        }

        /// CPU seconds as "a + b" milliseconds.
        static func milliseconds(_ cpu: [Double]) -> String {
            cpu.map { String(Int(($0 * 1000).rounded())) }.joined(separator: " + ")
        }

        /// The middle value (the upper one of the two middles for an even count).
        static func median(_ values: [Double]) -> Double {
            values.sorted()[values.count / 2]
        }
    }
}

extension Bench.SwarmScale {
    /// A random token: 32 hex digits from the system's generator.
    static func generateToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let word = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - word.count) + word
        }.joined()
    }
}
