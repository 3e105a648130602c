import ArgumentParser
import CleverMessaging
import Foundation
import Logging
import NIOCore
import UnixSignals

/// `clever-msg serve`: a ground-station console.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a ground station and drive its drones from a console (stdin).",
        discussion: ConsoleCommand.help
    )

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The TCP port (0: any free port).")
    var port: Int = 25000

    @Option(help: "Announce this server with a discovery beacon to ADDR[:PORT] (port 8181 by default).")
    var announce: String?

    @Flag(help: "Allow --announce to a broadcast address (the reference's 255.255.255.255).")
    var allowBroadcast = false

    @Option(help: "Sign the --announce beacons with the key in this file (its first line); drones need the same key.")
    var discoveryKey: String?

    @Option(help: "The directory drones may push files to and pull files from (default: none, every file transfer a drone starts is refused).")
    var root: String?

    @Option(help: "Seconds a request waits for each drone's reply.")
    var timeout: Double = 5

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Option(help: "Require a token: a file holding one shared token, or `id token` lines (one token per drone).")
    var tokenFile: String?

    @Option(help: "Seconds a new link has to pass its handshake (identify included) before it is closed.")
    var handshakeTimeout: Double = 2

    @Option(help: "The most drone links served at once.")
    var maxConnections: Int = 20_000

    @Option(help: "The most links served at once from one IP address (default: no limit).")
    var maxConnectionsPerAddress: Int?

    @Option(help: "Close a link that sends more than this many frames a second (default: no limit).")
    var maxFramesPerSecond: Int?

    @Option(help: "Serve metrics in Prometheus text format at http://HOST:PORT/metrics (port \(MetricsEndpoint.defaultPort) by default).")
    var metrics: String?

    @Flag(help: "Log connection events to standard error.")
    var verbose = false

    @OptionGroup(title: "TLS")
    var tls: ServerTLSArguments

    @OptionGroup(title: "Fleet")
    var fleet: FleetJoinArguments

    func validate() throws {
        try checkPort(port, in: PortRange.listening, option: "--port")
        guard timeout.isFinite, timeout > 0, timeout <= ConsoleArguments.maximumSeconds else {
            throw ValidationError("--timeout must be a number of seconds greater than 0 (at most \(Int(ConsoleArguments.maximumSeconds))), got \(timeout)")
        }
        if let announce { _ = try parseHostPort(announce, defaultPort: 8181) }
        if discoveryKey != nil, announce == nil {
            throw ValidationError("--discovery-key signs the discovery beacon: it needs --announce")
        }
        guard handshakeTimeout.isFinite, handshakeTimeout > 0, handshakeTimeout <= ConsoleArguments.maximumSeconds else {
            throw ValidationError("--handshake-timeout must be a number of seconds greater than 0, got \(handshakeTimeout)")
        }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be positive") }
        if let maxConnectionsPerAddress, maxConnectionsPerAddress <= 0 { throw ValidationError("--max-connections-per-address must be positive") }
        if let maxFramesPerSecond, maxFramesPerSecond <= 0 { throw ValidationError("--max-frames-per-second must be positive") }
        _ = TokenFiles.store(tokenFile, json: json)
        if let metrics { _ = try MetricsEndpoint.parseAddress(metrics) }
    }

    func run() async throws {
        let key = try loadDiscoveryKey(discoveryKey, json: json)
        let tlsOptions = try tls.load()
        var logger = Logger(label: "clever.serve")
        logger.logLevel = verbose ? .debug : .warning
        var configuration = ConnectionConfiguration()
        if let root {
            configuration.filePolicy = try FilePolicy(allowedRoots: [root])
        }
        let handshakeTimeout = Duration.milliseconds(Int64((handshakeTimeout * 1000).rounded(.up)))
        configuration.handshakeTimeout = handshakeTimeout
        if let store = TokenFiles.store(tokenFile, json: json) {
            configuration.handshake.insert(TokenServerStage.Factory(store: store), at: 0)
        }
        if let maxFramesPerSecond { configuration.inboundFrameLimit = FrameRateLimit(framesPerSecond: maxFramesPerSecond) }
        // Before the station: its server publishes to the backend bootstrapped here (once per process).
        let metricsEndpoint = try metrics.map { text in
            let (host, port) = try MetricsEndpoint.parseAddress(text)
            return MetricsEndpoint(registry: MetricsEndpoint.bootstrapRegistry(), host: host, port: port)
        }
        let station = GroundStation(
            host: host, port: port, configuration: configuration, identifyTimeout: handshakeTimeout,
            maximumConnections: maxConnections, maximumConnectionsPerAddress: maxConnectionsPerAddress, logger: logger,
            tls: tlsOptions, additionalListeners: tls.plainPort.map { [MessagingServer.Listener(host: host, port: $0)] } ?? []
        )
        // Line editing when a person types at a terminal; plain lines through a pipe.
        let editor = LineEditor()
        defer { editor?.restore() }
        let out = LinePrinter(json: json, editor: editor)
        let discovery: ServerDiscovery?
        if let announce {
            let (target, beaconPort) = try parseHostPort(announce, defaultPort: 8181)
            discovery = ServerDiscovery(
                announcedHost: host == "0.0.0.0" ? nil : host,
                beacon: DiscoveryBeacon.Configuration(host: target, port: beaconPort, allowBroadcast: allowBroadcast, key: key)
            )
        } else {
            discovery = nil
        }
        // The station runs whether or not NATS stays up; the bridge reconnects by itself.
        let bridge = try await fleet.connect(station, out: out, logger: logger)
        let events = station.events()
        let refusals = station.server.refusals()
        // Ctrl-C is the console's from here on: it cancels a command instead of ending the process.
        let interrupts = await UnixSignalsSequence(trapping: .sigint)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                if let discovery { try await station.run(discovery: discovery) } else { try await station.run() }
            }
            group.addTask {
                for await event in events { Self.report(event, out) }
            }
            if let metricsEndpoint {
                group.addTask {
                    try await metricsEndpoint.run { port in
                        let url = "http://\(metricsEndpoint.displayHost):\(port)/metrics"
                        out.print(["metrics": .string(url)], text: "metrics at \(url)")
                    }
                }
            }
            group.addTask {
                for await refusal in refusals {
                    out.print(
                        ["refused": .string(refusal.address), "reason": .string(refusal.reason.rawValue)],
                        text: "! \(refusal.address) refused (\(refusal.reason)): \(refusal.message)"
                    )
                }
            }
            if let bridge { group.addTask { try await bridge.run() } }
            let address = try await station.server.localAddress()
            out.print(["listening": .string("\(host):\(address.port ?? port)")], text: "ground station listening on \(host):\(address.port ?? port)")
            if tlsOptions != nil { try await tls.reportListeners(of: station.server, out: out) }
            let console = Console(station: station, out: out, timeout: .milliseconds(Int64((timeout * 1000).rounded(.up))))
            await ConsoleSession(console: console, out: out, editor: editor).run(interrupts: interrupts)
            bridge?.shutdown()
            await bridge?.client.close()
            station.shutdown()
            metricsEndpoint?.shutdown()
            try await group.waitForAll()
        }
    }

    static func report(_ event: GroundStation.Event, _ out: LinePrinter) {
        switch event {
        case .firstConnected(let d):
            out.print(["event": "connected", "id": .string(d.id), "address": .string(d.address), "first": true], text: "+ \(d.id) connected from \(d.address)")
        case .reconnected(let d):
            out.print(["event": "connected", "id": .string(d.id), "address": .string(d.address), "first": false], text: "+ \(d.id) reconnected from \(d.address)")
        case .disconnected(let d):
            out.print(["event": "disconnected", "id": .string(d.id)], text: "- \(d.id) disconnected")
        case .duplicateRefused(let id, let address):
            out.print(
                ["event": "duplicate_refused", "id": .string(id), "address": .string(address)],
                text: "! \(address) answered id \(id), which a connected drone has: refused"
            )
        }
    }
}

/// Standard input as an asynchronous sequence of lines, read on a thread of its own.
enum StandardInput {
    static func lines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
            thread.start()
        }
    }
}
