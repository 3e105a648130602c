import ArgumentParser
import CleverBridge
import CleverMessaging
import CleverNATS
import Foundation
import Logging
import UnixSignals

/// `clever-msg fleet`: a console over every ground station bridged onto NATS.
struct Fleet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive the drones of every ground station bridged onto NATS from one console (stdin).",
        discussion: ConsoleCommand.fleetHelp
    )

    @Option(help: "The NATS servers, comma-separated (nats://HOST:PORT; a cluster's nodes for fail-over).")
    var nats: String = "nats://127.0.0.1:4222"

    @Option(help: "Seconds a request waits for each drone's (or station's) reply.")
    var timeout: Double = 5

    @Option(help: "Seconds `clever.discover` collects the stations' replies.")
    var window: Double = 0.25

    @Option(help: "End discovery as soon as this many stations answered (default: always wait the whole --window).")
    var stations: Int?

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Flag(help: "Log the NATS connection's events to standard error.")
    var verbose = false

    func validate() throws {
        for (value, name) in [(timeout, "--timeout"), (window, "--window")] {
            guard value.isFinite, value > 0, value <= ConsoleArguments.maximumSeconds else {
                throw ValidationError("\(name) must be a number of seconds greater than 0 (at most \(Int(ConsoleArguments.maximumSeconds))), got \(value)")
            }
        }
        if let stations, stations <= 0 { throw ValidationError("--stations must be positive") }
        _ = try Self.natsConfiguration(nats)
    }

    /// The client's configuration for `--nats`.
    static func natsConfiguration(_ urls: String) throws -> NATSConfiguration {
        let list = urls.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        do {
            var configuration = try NATSConfiguration(urls: list)
            configuration.name = "clever-msg fleet"
            // A console keeps trying: the stations fly on while the link is down.
            configuration.maximumReconnectAttempts = nil
            configuration.reconnectDelay = .milliseconds(100)
            configuration.maximumReconnectDelay = .seconds(2)
            return configuration
        } catch {
            throw ValidationError("--nats: \(error)")
        }
    }

    /// Connects `client`, or says how to start a local server.
    static func connect(_ client: NATSClient, urls: String) async throws {
        do {
            try await client.connect()
        } catch {
            throw ConsoleError(
                code: "nats_unreachable",
                "cannot reach NATS at \(urls) (\(error)); start a local server with: nats-server -a 127.0.0.1 -p 4222")
        }
    }

    func run() async throws {
        var logger = Logger(label: "clever.fleet")
        logger.logLevel = verbose ? .debug : .warning
        let client = NATSClient(configuration: try Self.natsConfiguration(nats), logger: logger)
        try await Self.connect(client, urls: nats)
        var settings = FleetView.Configuration()
        settings.requestTimeout = Self.duration(timeout)
        settings.discoveryWindow = Self.duration(window)
        settings.expectedStations = stations
        let view = FleetView(client: client, configuration: settings, logger: logger)
        let editor = LineEditor()
        defer { editor?.restore() }
        let out = LinePrinter(json: json, editor: editor)
        let events = view.events()
        let interrupts = await UnixSignalsSequence(trapping: .sigint)
        out.print(["fleet": .string(nats)], text: "fleet console on \(nats) (help lists the commands)")
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await view.run() }
            group.addTask {
                for await event in events { FleetConsole.report(event, out) }
            }
            let console = FleetConsole(view: view, out: out, timeout: settings.requestTimeout)
            await ConsoleSession(console: console, out: out, editor: editor).run(interrupts: interrupts)
            await client.close()
            group.cancelAll()
        }
    }

    /// Seconds as a `Duration`, rounded up to the millisecond.
    static func duration(_ seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }
}
