import ArgumentParser
import CleverMessaging
import Foundation
import CleverDrone
import Logging
import NIOCore

/// `clever-msg drone`: one simulated drone that behaves like a reference drone on the wire.
struct Drone: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a simulated drone that connects to a ground station.",
        discussion: """
            Behaves as a reference clever-show drone (DRONE.md): answers every request of \
            the reference, pushes its telemetry record, flies its animation on a timed start; \
            keeps its files in the sandbox --root (clover_dir is inside it); prints one line per action received, and one \
            when it starts connecting, connects, fails to connect (why, and when it retries) or \
            loses its link. Reconnects after a drop (every 2 s; after 3 failures it also \
            listens for a discovery beacon on --discover PORT when given).
            """
    )

    @Option(help: "The ground station, HOST:PORT.")
    var server: String = "127.0.0.1:25000"

    @Option(help: "Dial from this loopback address (inside 127.0.0.0/8, such as 127.0.1.1): the reference ground station keys drones by source IP, so each simulated drone on one machine needs its own (default: the system's choice).")
    var source: String?

    @Option(help: "This drone's id (default: copter-<pid>).")
    var id: String?

    @Option(help: "The drone's sandbox (created): its animation.csv, temp.params, config/client.ini and clover_dir; pushes and pulls stay inside it (default: none, every file push and pull is refused).")
    var root: String?

    @Option(help: "Listen for the server's discovery beacon on this UDP port when it cannot be reached.")
    var discover: Int?

    @Option(help: "Follow only --discover beacons signed with the key in this file (its first line); others are ignored with a warning.")
    var discoveryKey: String?

    @Option(help: "Push the telemetry record this many times a second (default: the config's TELEMETRY_frequency, 1 Hz, as the reference; 0: none).")
    var telemetryHz: Double?

    @Option(help: "The git_version the drone reports (the station colours any hash but its own red).")
    var gitVersion: String = VirtualDrone.defaultGitVersion

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Option(help: "Prove the token on this file's first line to a ground station that requires one.")
    var tokenFile: String?

    @Option(help: "Simulate a clock this many seconds ahead of the system's (negative: behind): its time answer, clock exchange and timed starts use it.")
    var clockOffset: Double = 0

    @Flag(help: "Also write the library's debug log to standard error.")
    var verbose = false

    @OptionGroup(title: "TLS")
    var tls: ClientTLSArguments

    func validate() throws {
        _ = try parseHostPort(server, defaultPort: 25000)
        if let source { _ = try SourceAddress(source) }
        try TimedStartLine.checkClockOffset(clockOffset, option: "--clock-offset")
        if let discover { try checkPort(discover, in: PortRange.connectable, option: "--discover") }
        if discoveryKey != nil, discover == nil {
            throw ValidationError("--discovery-key checks discovery beacons: it needs --discover")
        }
        _ = TokenFiles.clientToken(tokenFile, json: json)
        guard (telemetryHz ?? 1) >= 0, (telemetryHz ?? 1) <= 1000 else { throw ValidationError("--telemetry-hz must be between 0 and 1000") }
    }

    func run() async throws {
        let key = try loadDiscoveryKey(discoveryKey, json: json)
        let (host, port) = try parseHostPort(server, defaultPort: 25000)
        let tlsOptions = try tls.load()
        let id = self.id ?? "copter-\(ProcessInfo.processInfo.processIdentifier)"
        var logger = Logger(label: "clever.drone")
        logger.logLevel = verbose ? .debug : .error
        let printer = LinePrinter(json: json)
        let sandbox: DroneSandbox?
        do {
            sandbox = try root.map { try DroneSandbox(directory: $0) }
        } catch {
            throw ValidationError("--root \(root ?? ""): \(error)")
        }
        let fleet = VirtualFleet { _, action, args, kwargs in
            printer.print(["action": .string(action), "args": .array(args), "kwargs": .object(kwargs)],
                          text: "action \(action) args=\(JSONValue.array(args)) kwargs=\(JSONValue.object(kwargs))")
        }
        let drone = VirtualDrone(id: id, sandbox: sandbox, gitVersion: gitVersion)
        fleet.registry.onTimedStart { _, start in
            printer.print(TimedStartLine.json(start, id: id), text: TimedStartLine.text(start, id: id))
        }
        fleet.registry.onFileReceived { connection, path, bytes in
            fleet.drone(on: connection)?.fileReceived(at: path)
            printer.print(["file": .string(path), "bytes": .integer(Int(bytes))], text: "file \(path) (\(bytes) bytes)")
        }
        var configuration = ConnectionConfiguration()
        configuration.clockOffset = .seconds(clockOffset)
        if let sandbox {
            configuration.filePolicy = try sandbox.filePolicy()
        }
        if let token = TokenFiles.clientToken(tokenFile, json: json) {
            configuration.handshake.insert(TokenClientStage.Factory(token: token, id: id), at: 0)
        }
        let client = MessagingClient(
            host: host, port: port, registry: fleet.registry, configuration: configuration,
            localHost: try source.map { try SourceAddress($0).description }, logger: logger, tls: tlsOptions
        )
        fleet.add(drone, on: client.connection)
        var started: JSONObject = ["drone": .string(id), "server": .string("\(host):\(port)")]
        if let source { started["source"] = .string(source) }
        printer.print(started, text: "drone \(id) → \(host):\(port)" + (source.map { " from \($0)" } ?? ""))
        if root == nil {
            printer.print(["files": "refused", "reason": "no --root given"], text: "no --root given: file pushes and pulls are refused")
        }
        let events = client.events()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await LinkEventPrinter(out: printer).printAll(events) }
            if telemetryHz != 0 {
                // Ends when the client is shut down and its connection closed.
                let period = telemetryHz.map { TelemetryPublisher(hertz: $0).period }
                group.addTask { await fleet.pushTelemetry([client.connection], every: period) }
            }
            if let discover {
                // Ignored beacons (a wrong or missing key) are worth a warning even when the rest is quiet.
                var discoveryLogger = Logger(label: "clever.discovery")
                discoveryLogger.logLevel = verbose ? .debug : .warning
                let listener = DiscoveryListener(configuration: .init(port: discover, key: key), logger: discoveryLogger)
                do {
                    try await client.run(discovery: listener, timeout: ClientDiscovery().timeout)
                } catch {
                    await listener.close()
                    throw error
                }
                await listener.close()
            } else {
                try await client.run()
            }
            try await group.waitForAll()
        }
    }
}

/// Splits `HOST:PORT` (or `HOST`, or `[IPv6]:PORT`); the port must be one a peer can be reached at (1...65535).
func parseHostPort(_ text: String, defaultPort: Int) throws -> (String, Int) {
    let host: String
    let portText: Substring?
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        host = String(text[text.index(after: text.startIndex)..<close])
        let rest = text[text.index(after: close)...]
        guard rest.isEmpty || rest.hasPrefix(":") else { throw ValidationError("expected [HOST]:PORT, got \(text)") }
        portText = rest.isEmpty ? nil : rest.dropFirst()
    } else {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw ValidationError("expected HOST:PORT, got \(text)") }
        host = String(parts[0])
        portText = parts.count == 2 ? parts[1] : nil
    }
    guard let portText else { return (host, defaultPort) }
    guard let port = Int(portText) else { throw ValidationError("expected a port number after the colon, got \(text)") }
    try checkPort(port, in: PortRange.connectable, option: text)
    return (host, port)
}

/// Checks a port given on the command line.
/// - Throws: a `ValidationError` naming the option and the allowed range.
func checkPort(_ port: Int, in allowed: ClosedRange<Int>, option: String) throws {
    do {
        try PortRange.check(port, in: allowed)
    } catch {
        throw ValidationError("\(option): \(error)")
    }
}

/// Prints result lines as text or as JSON objects, one write per line.
struct LinePrinter: Sendable {
    let json: Bool
    /// The console's line editor on a terminal: lines then appear above the line being typed.
    var editor: LineEditor? = nil
    /// Whether a text line first erases the terminal line it lands on (a progress line drawn in place).
    var clearsLine = false

    func print(_ object: JSONObject, text: @autoclosure () -> String) {
        let line = json ? JSONValue.object(object).description : text()
        if let editor {
            editor.printAbove(line)
            return
        }
        let bytes = Array(((clearsLine && !json ? "\r\u{1B}[K" : "") + line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }
}
