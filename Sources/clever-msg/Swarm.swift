import ArgumentParser
import CleverBench
import CleverDrone
import CleverMessaging
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import UnixSignals

/// `clever-msg swarm`: many simulated drones in one process.
struct Swarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run N simulated drones in one process against a ground station (rehearsals, load tests).",
        discussion: """
            Each drone behaves like `clever-msg drone`: a simulated reference drone \
            (DRONE.md) that pushes its telemetry, answers every request, flies its \
            animation on a timed start and reconnects after a drop. With --source ADDRESS, \
            drone N dials from ADDRESS + N - 1 (all inside 127.0.0.0/8): the reference \
            ground station keys drones by source IP. Actions are counted and \
            reported once all drones have one (one line per action name and count). \
            One progress line sums the swarm up: drones connected of all, failing, \
            reconnecting, reconnects, actions and files received (rewritten in place \
            on a terminal; through a pipe, a line when a number changed, at most one \
            a second); --verbose adds a line per drone and action. A summary follows \
            once all are connected, and when the swarm stops: drones, connected, \
            failed (with the reasons, grouped) and the time taken. \
            The open-file soft limit is raised to the hard limit first; the command \
            refuses an N that cannot fit. The swarm runs until SIGINT (Ctrl-C) or \
            SIGTERM, or a line "quit" on standard input; the end of standard input \
            does not stop it. It then prints its peak RSS and the summary.
            """
    )

    @Option(help: "The ground station, HOST:PORT.")
    var server: String = "127.0.0.1:25000"

    @Option(help: "Drone N dials from this loopback address plus N - 1 (inside 127.0.0.0/8, such as 127.0.1.1), so a ground station that keys drones by source IP sees one per drone (default: the system's choice).")
    var source: String?

    @Option(help: "How many drones.")
    var count: Int = 100

    @Option(help: "Drone ids are this prefix and a number.")
    var idPrefix: String = "copter"

    @Option(help: "How many drones may be connecting at the same moment (so the station's accept queue never overflows).")
    var connectsInFlight: Int = 256

    @Option(help: "Listen for the server's discovery beacon on this UDP port (one listener for the swarm) when it cannot be reached.")
    var discover: Int?

    @Option(help: "Follow only --discover beacons signed with the key in this file (its first line).")
    var discoveryKey: String?

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Option(help: "Every drone proves the token on this file's first line to a ground station that requires one.")
    var tokenFile: String?

    @Option(help: "Give each drone a clock skewed by a fixed offset within ± this many seconds (drawn from its number): its time answer, clock exchange and timed starts use it.")
    var clockOffsetSpread: Double = 0

    @Flag(help: "Print every action received (one line per drone and action).")
    var verbose = false

    @Option(help: "Give each drone its own sandbox ROOT/ID (created): its animation.csv, config/client.ini, and clover_dir inside it; pushes and pulls stay in it (default: none, every file push and pull is refused).")
    var root: String?

    @Option(help: "Every drone pushes its telemetry record this many times a second (default: TELEMETRY_frequency, 1 Hz, as the reference; 0: none). One task drives every drone's pushes.")
    var telemetryHz: Double?

    @Option(help: "The git_version every drone reports (the station colours any hash but its own red).")
    var gitVersion: String = VirtualDrone.defaultGitVersion

    @OptionGroup(title: "TLS (one client certificate, if any, for every drone)")
    var tls: ClientTLSArguments

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        if let source { _ = try SourceAddress(source).advanced(by: count - 1) }
        guard connectsInFlight > 0 else { throw ValidationError("--connects-in-flight must be positive") }
        guard (telemetryHz ?? 1) >= 0, (telemetryHz ?? 1) <= 1000 else { throw ValidationError("--telemetry-hz must be between 0 and 1000") }
        try TimedStartLine.checkClockOffset(clockOffsetSpread, option: "--clock-offset-spread")
        _ = TokenFiles.clientToken(tokenFile, json: json)
        if let discover { try checkPort(discover, in: PortRange.connectable, option: "--discover") }
        if discoveryKey != nil, discover == nil {
            throw ValidationError("--discovery-key checks discovery beacons: it needs --discover")
        }
    }

    func run() async throws {
        let key = try loadDiscoveryKey(discoveryKey, json: json)
        let (host, port) = try parseHostPort(server, defaultPort: 25000)
        let tlsOptions = try tls.load()
        let limit = try FileLimit.raiseToHard()
        let needed = count + 64
        guard needed <= limit else {
            throw ValidationError("\(count) drones need about \(needed) open files, but the hard limit is \(limit) (raise it with ulimit -Hn)")
        }
        let isTerminal = isatty(1) == 1
        let out = LinePrinter(json: json, clearsLine: isTerminal)
        let progress = SwarmProgress(count: count, out: out, isTerminal: isTerminal && !json)
        let tally = ActionTally(total: count, out: out)
        let firstSource = try source.map { try SourceAddress($0) }
        let roots = try SwarmFiles(root: root)
        let fleet = VirtualFleet { drone, action, args, kwargs in
            if verbose {
                let id = drone.id
                out.print(["id": .string(id), "action": .string(action), "args": .array(args), "kwargs": .object(kwargs)], text: "\(id): \(action)")
            }
            tally.record(action)
            progress.recordAction()
        } fileReport: { _, _ in
            progress.recordFile()
        }
        let starts = TimedStartTally(total: count, out: out)
        fleet.registry.onTimedStart { connection, start in starts.record(start, id: fleet.drone(on: connection)?.id ?? "copter") }
        var logger = Logger(label: "clever.swarm")
        logger.logLevel = .critical
        var configuration = ConnectionConfiguration()
        configuration.filePolicy = nil  // without --root, a rehearsal swarm refuses file transfers
        configuration.keepalive.enabled = count <= 1000  // thousands of 1 s keepalive timers on loopback buy nothing
        // Nor do thousands of application pings (16,000 drones pinging every 5 s make 3,200
        // requests a second): the station pings the drones, and its pings prove the links too.
        if count > 1000 { configuration.pingInterval = nil }
        let policy = ReconnectPolicy(initialDelay: .milliseconds(200), backoffMultiplier: 1.5, maximumDelay: .seconds(5), jitter: 0.5)
        let limiter = ConnectLimiter(maximumInFlight: connectsInFlight)
        let timers = LinkTimers()
        let token = TokenFiles.clientToken(tokenFile, json: json)
        let clients = try (1...count).map { n in
            var configuration = configuration
            let id = "\(idPrefix)-\(n)"
            let sandbox = try roots?.sandbox(for: id)
            if let sandbox { configuration.filePolicy = try sandbox.filePolicy() }
            configuration.clockOffset = TimedStartLine.clockOffset(drone: n, spread: clockOffsetSpread)
            if let token { configuration.handshake.insert(TokenClientStage.Factory(token: token, id: "\(idPrefix)-\(n)"), at: 0) }
            let client = MessagingClient(
                host: host, port: port, registry: fleet.registry, configuration: configuration, reconnectPolicy: policy,
                connectLimiter: limiter, localHost: try firstSource?.advanced(by: n - 1).description, logger: logger, timers: timers,
                tls: tlsOptions
            )
            // Drones a metre apart, ten to a row, so that their animations do not overlap.
            let offset = [Double((n - 1) % 10), Double((n - 1) / 10), 0]
            fleet.add(VirtualDrone(id: id, sandbox: sandbox, gitVersion: gitVersion, offset: offset), on: client.connection)
            return client
        }
        for (index, client) in clients.enumerated() { progress.watch(client, drone: index) }
        var started: JSONObject = ["swarm": .integer(count), "server": .string("\(host):\(port)"), "open_file_limit": .integer(limit)]
        var from = ""
        if let firstSource {
            let last = try firstSource.advanced(by: count - 1)
            started["source"] = .string("\(firstSource)")
            started["last_source"] = .string("\(last)")
            from = count == 1 ? " from \(firstSource)" : " from \(firstSource)…\(last)"
        }
        out.print(started, text: "swarm of \(count) drones → \(host):\(port)\(from) (open-file limit \(limit))")
        // Trapped before the drones start: a signal from then on stops the swarm cleanly.
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        // One listener for the whole swarm: every drone waiting for a beacon subscribes to it.
        let listener = discover.map { DiscoveryListener(configuration: .init(port: $0, key: key), logger: logger) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    if let listener { try await client.run(discovery: listener) } else { try await client.run() }
                }
            }
            // Drawn until the swarm is told to stop (cancelled there, or when this scope ends).
            let drawing = Task { await progress.run() }
            defer { drawing.cancel() }
            group.addTask {
                await withTaskGroup(of: Void.self) { pushing in
                    if telemetryHz != 0 {
                        // One task pushes every drone's record (no timer per drone), until the swarm stops.
                        let period = telemetryHz.map { TelemetryPublisher(hertz: $0).period }
                        pushing.addTask { await fleet.pushTelemetry(clients.map(\.connection), every: period) }
                    }
                    await Self.untilStopped(signals: signals)
                    pushing.cancelAll()
                }
                // The swarm as it stood when told to stop, not as its links close.
                progress.freeze()
                drawing.cancel()
                for client in clients { client.shutdown() }
            }
            try await group.waitForAll()
        }
        await listener?.close()
        starts.flush()
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        out.print(["peak_rss": .integer(usage.ru_maxrss * 1024)], text: "peak RSS \(usage.ru_maxrss / 1024) MiB")
        progress.printSummary()
    }
}

extension Swarm {
    /// Returns on SIGINT or SIGTERM, or a line "quit" on standard input; the end
    /// of standard input does not stop the swarm (it runs under a supervisor or
    /// with `< /dev/null` as well as from a shell).
    static func untilStopped(signals: UnixSignalsSequence) async {
        await withTaskGroup(of: Void.self) { stop in
            stop.addTask {
                for await _ in signals { return }
            }
            stop.addTask {
                for await line in StandardInput.lines() where line.trimmingCharacters(in: .whitespaces) == "quit" { return }
                // Standard input ended without a "quit": only a signal stops the swarm now.
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }
            await stop.next()
            stop.cancelAll()
        }
    }
}

/// Counts actions across the swarm and reports when every drone has one.
final class ActionTally: Sendable {
    private let counts = NIOLockedValueBox<[String: Int]>([:])
    private let total: Int
    private let out: LinePrinter

    init(total: Int, out: LinePrinter) {
        self.total = total
        self.out = out
    }

    func record(_ action: String) {
        let n = counts.withLockedValue { c -> Int in
            c[action, default: 0] += 1
            return c[action]!
        }
        if n % total == 0 {
            out.print(["action": .string(action), "drones": .integer(total), "received": .integer(n)], text: "all \(total) drones received \(action)")
        }
    }
}
