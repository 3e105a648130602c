import ArgumentParser
import CleverBridge
import CleverMessaging
import CleverNATS
import Foundation
import Logging
import NIOCore

extension Bench {
    /// `clever-msg bench fleet`: stations bridged onto one local `nats-server`, each with a swarm.
    struct FleetScale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fleet",
            abstract: "Broadcast and request-all through NATS, against the same calls made directly on the stations.",
            discussion: """
                Starts `nats-server` on a free 127.0.0.1 port, --stations ground stations in this \
                process, each bridged onto it (StationBridge) and each with `clever-msg swarm` \
                of --count/--stations drones in a child process. Then, per round: a broadcast \
                (one action to every drone: `send(_:args:kwargs:to:)` to all) made directly on every \
                station, then the same through NATS (`clever.<station>.all.action.<name>`), each until every swarm reports the last \
                drone has it; a telemetry request to every drone made directly (requestAll on every \
                station), then through NATS (one request per drone, \
                `clever.<station>.<drone>.request.telemetry`), each until the last reply. The direct \
                calls are the baseline: the ratios say what crossing NATS costs. CPU time is that of \
                every process (this one, the swarms, nats-server).
                """
        )

        @OptionGroup var options: Bench.Options

        @Option(help: "How many ground stations.")
        var stations: Int = 4

        @Option(help: "How many drones in all (split evenly across the stations).")
        var count: Int = 16_000

        @Option(help: "How many times each call is timed; the median is reported.")
        var rounds: Int = 1

        @Option(help: "The most NATS requests in flight at once from the bench's console.")
        var inFlight: Int = 4096

        func validate() throws {
            guard stations >= 1, stations <= 64 else { throw ValidationError("--stations must be between 1 and 64") }
            guard count >= stations else { throw ValidationError("--count must be at least --stations") }
            guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
            guard inFlight >= 1 else { throw ValidationError("--in-flight must be at least 1") }
        }

        func run() async throws {
            let reporter = Reporter(json: options.json)
            reporter.warnIfDebug()
            _ = try FileLimit.raiseToHard()
            let nats = try await NATSServerChild.start()
            defer { nats.stop() }
            var logger = Logger(label: "clever.bench")
            logger.logLevel = .critical
            var configuration = ConnectionConfiguration()
            configuration.keepalive.enabled = false
            configuration.filePolicy = nil
            let perStation = count / stations
            var fleet: [(station: GroundStation, bridge: StationBridge, swarm: SwarmProcess, task: Task<Void, any Error>)] = []
            let identifyStart = NIODeadline.now()
            for index in 0..<stations {
                let station = GroundStation(
                    host: "127.0.0.1", port: 0, configuration: configuration, identifyTimeout: .seconds(120), logger: logger,
                    clock: ClockConfiguration(interval: nil, measuresOnLink: false)
                )
                let client = NATSClient(configuration: try NATSConfiguration(urls: [nats.url]), logger: logger)
                try await client.connect()
                let bridge = try StationBridge(
                    station: station, client: client, name: "s\(index)",
                    configuration: .init(requestTimeout: .seconds(60)), logger: logger)
                let task = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await station.run() }
                        group.addTask { try await bridge.run() }
                        try await group.waitForAll()
                    }
                }
                await bridge.waitUntilServing()
                let port = try await station.server.localAddress().port!
                let swarm = try SwarmProcess(arguments: [
                    "swarm", "--server", "127.0.0.1:\(port)", "--count", "\(perStation)", "--json", "--telemetry-hz", "0",
                ])
                fleet.append((station, bridge, swarm, task))
            }
            for member in fleet {
                do {
                    try await member.station.waitForDrones(perStation, timeout: .seconds(600))
                } catch {
                    throw ValidationError("\(error) (drones identified at station \(member.bridge.name))")
                }
            }
            let identify = NIODeadline.seconds(since: identifyStart)
            let console = NATSClient(configuration: try NATSConfiguration(urls: [nats.url]), logger: logger)
            try await console.connect()
            let targets = fleet.map { (name: $0.bridge.name, ids: $0.station.connectedIDs) }
            let pids = [getpid(), nats.pid] + fleet.map(\.swarm.process.processIdentifier)

            var samples = Samples()
            var broadcasts = 0
            for round in 1...rounds {
                // Which goes first alternates, so that neither always meets a swarm just woken up.
                for throughNATS in round % 2 == 1 ? [false, true] : [true, false] {
                    broadcasts += 1
                    let expected = perStation * broadcasts
                    let start = NIODeadline.now()
                    let (_, cpu) = try await ProcessCPU.measure(pids) {
                        if throughNATS {
                            for member in fleet {
                                try await console.publish(
                                    ByteBuffer(string: #"{"args":[],"kwargs":{"r":255,"g":0,"b":128}}"#),
                                    to: FleetSubjects.action("led_fill", station: member.bridge.name, drone: FleetSubjects.allDrones))
                            }
                        } else {
                            // The call the bridge makes for an action to `all`, made on every station at once.
                            try await withThrowingTaskGroup(of: Void.self) { group in
                                for member in fleet {
                                    group.addTask {
                                        _ = try await member.station.send("led_fill", args: [], kwargs: ["r": 255, "g": 0, "b": 128], to: nil)
                                    }
                                }
                                try await group.waitForAll()
                            }
                        }
                        for member in fleet {
                            try await member.swarm.waitFor(timeout: .seconds(120)) {
                                $0["action"] == "led_fill" && $0["received"] == .integer(expected)
                            }
                        }
                    }
                    let path: WritableKeyPath<Samples, [(Double, Double)]> = throughNATS ? \.natsBroadcast : \.directBroadcast
                    samples.add(path, NIODeadline.seconds(since: start), cpu: cpu)
                }
                // Direct: every station asks all its drones at once.
                let directStart = NIODeadline.now()
                let (direct, directCPU) = await ProcessCPU.measure(pids) {
                    await withTaskGroup(of: Int.self) { group in
                        for member in fleet {
                            group.addTask { await member.station.requestAll("telemetry", as: JSONValue.self, timeout: .seconds(60)).succeeded.count }
                        }
                        return await group.reduce(0, +)
                    }
                }
                samples.add(\.directRequestAll, NIODeadline.seconds(since: directStart), cpu: directCPU)
                samples.failures += count - direct
                let natsStart = NIODeadline.now()
                let (answered, natsCPU) = await ProcessCPU.measure(pids) { await Self.requestAll(targets, through: console, inFlight: inFlight) }
                samples.add(\.natsRequestAll, NIODeadline.seconds(since: natsStart), cpu: natsCPU)
                samples.failures += targets.reduce(0) { $0 + $1.ids.count } - answered
            }

            await console.close()
            for member in fleet {
                _ = try? await member.swarm.finish()
                member.bridge.shutdown()
                await member.bridge.client.close()
                member.station.shutdown()
                _ = try? await member.task.value
            }
            let drones = stations * perStation
            reporter.note("\(stations) stations × \(perStation) drones on one nats-server, \(rounds) round\(rounds == 1 ? "" : "s") (median); \(samples.failures) requests failed")
            reporter.note("CPU: this process (stations, bridges, console) + nats-server + swarms")
            reporter.report(Measurement(name: "fleet.identify_all", value: identify * 1000, unit: "ms", baseline: nil, label: "connect + identify \(drones)"))
            reporter.report(Measurement(
                name: "fleet.broadcast", value: samples.median(\.natsBroadcast) * 1000, unit: "ms",
                baseline: samples.median(\.directBroadcast) * 1000, label: "broadcast via NATS (vs direct)"))
            reporter.report(Measurement(
                name: "fleet.request_all", value: samples.median(\.natsRequestAll) * 1000, unit: "ms",
                baseline: samples.median(\.directRequestAll) * 1000, label: "request-all via NATS (vs direct)"))
            reporter.report(Measurement(
                name: "fleet.broadcast.cpu", value: samples.medianCPU(\.natsBroadcast) * 1000, unit: "ms",
                baseline: samples.medianCPU(\.directBroadcast) * 1000, label: "broadcast CPU, all processes"))
            reporter.report(Measurement(
                name: "fleet.request_all.cpu", value: samples.medianCPU(\.natsRequestAll) * 1000, unit: "ms",
                baseline: samples.medianCPU(\.directRequestAll) * 1000, label: "request-all CPU, all processes"))
            reporter.report(Measurement(
                name: "fleet.request_all.cpu_per_drone", value: samples.medianCPU(\.natsRequestAll) * 1e6 / Double(drones), unit: "µs",
                baseline: samples.medianCPU(\.directRequestAll) * 1e6 / Double(drones), label: "request CPU per drone"))
            if samples.failures > 0 { throw ExitCode(2) }
        }

        /// One request per drone through NATS, at most `inFlight` at once; returns how many drones answered.
        static func requestAll(_ targets: [(name: String, ids: [String])], through console: NATSClient, inFlight: Int) async -> Int {
            let subjects = targets.flatMap { target in target.ids.map { FleetSubjects.request("telemetry", station: target.name, drone: $0) } }
            return await withTaskGroup(of: Bool.self) { group in
                var answered = 0
                var running = 0
                for subject in subjects {
                    if running >= inFlight, let ok = await group.next() {
                        running -= 1
                        if ok { answered += 1 }
                    }
                    running += 1
                    group.addTask {
                        guard let reply = try? await console.request(ByteBuffer(), to: subject, timeout: .seconds(60)) else { return false }
                        // A reply carrying a value, not an error (FleetReply).
                        guard let answer = try? reply.payload.withUnsafeReadableBytes({ try JSONParser.parse($0) }) else { return false }
                        return answer["value"] != nil && answer["error"] == nil
                    }
                }
                for await ok in group where ok { answered += 1 }
                return answered
            }
        }

        /// Times and CPU times of each call, in seconds.
        struct Samples {
            var directBroadcast: [(Double, Double)] = []
            var natsBroadcast: [(Double, Double)] = []
            var directRequestAll: [(Double, Double)] = []
            var natsRequestAll: [(Double, Double)] = []
            var failures = 0

            mutating func add(_ path: WritableKeyPath<Samples, [(Double, Double)]>, _ seconds: Double, cpu: [Double]) {
                self[keyPath: path].append((seconds, cpu.reduce(0, +)))
            }

            func median(_ path: KeyPath<Samples, [(Double, Double)]>) -> Double {
                let values = self[keyPath: path].map(\.0).sorted()
                return values.isEmpty ? 0 : values[values.count / 2]
            }

            func medianCPU(_ path: KeyPath<Samples, [(Double, Double)]>) -> Double {
                let values = self[keyPath: path].map(\.1).sorted()
                return values.isEmpty ? 0 : values[values.count / 2]
            }
        }
    }
}
