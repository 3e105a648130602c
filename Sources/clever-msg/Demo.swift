import ArgumentParser
import CleverMessaging
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Foundation

/// `clever-msg demo`: a ground station and three simulated drones in one
/// process, on 127.0.0.1 only.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a ground station and three simulated drones on 127.0.0.1 and show what happens.",
        discussion: """
            Starts a server on an ephemeral loopback port and three drones that connect \
            to it; sends actions, requests telemetry, broadcasts, drops one drone's link \
            while it waits for a reply and shows the request resent and answered on the \
            new link. Sends no packet beyond loopback.
            """
    )

    @Option(help: "How many simulated drones.")
    var drones: Int = 3

    @Flag(help: "Log connection events to standard error.")
    var verbose = false

    @Flag(help: "Run two ground stations bridged onto NATS and a fleet view across them (needs a local nats-server: \(FleetDemo.serverCommand)).")
    var nats = false

    @Option(help: "The NATS server for --nats.")
    var natsURL = "nats://127.0.0.1:4222"

    func validate() throws {
        guard (1...50).contains(drones) else { throw ValidationError("--drones must be between 1 and 50") }
    }

    func run() async throws {
        var logger = Logger(label: "clever.demo")
        logger.logLevel = verbose ? .debug : .critical
        if nats {
            try await FleetDemo.run(url: natsURL, dronesPerStation: drones, logger: logger)
            return
        }
        let out = DemoOutput()

        // Ground station: answers the drones' "show_time" request slowly, so
        // that a link can be dropped while a request waits.
        let stationRegistry = HandlerRegistry()
        stationRegistry.onRequest("show_time") { (_, _, kwargs) async throws -> JSONValue in
            try await Task.sleep(for: .milliseconds(kwargs["delay_ms"]?.integerValue ?? 0))
            return ["t": 1_700_000_000.5, "asked_by": kwargs["drone"] ?? nil]
        }
        let station = GroundStation(host: "127.0.0.1", port: 0, registry: stationRegistry, logger: logger)
        let server = station.server

        // Discovery stays on loopback: the beacon goes to 127.0.0.1 only.
        let beaconListener = DiscoveryListener(configuration: .init(host: "127.0.0.1", port: 0, reusePort: false))
        let beaconPort = try await beaconListener.start().port!
        let discovery = ServerDiscovery(
            id: "demo",
            announcedHost: "127.0.0.1",
            beacon: DiscoveryBeacon.Configuration(host: "127.0.0.1", port: beaconPort, interval: .milliseconds(200))
        )
        let events = station.events()

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await station.run(discovery: discovery) }
            group.addTask {
                for await event in events {
                    if case .firstConnected(let drone) = event { out.line("  + \(drone.id) identified (\(drone.address))") }
                }
            }
            let address = try await server.localAddress()
            let port = address.port!
            out.line("ground station listening on 127.0.0.1:\(port), beacon to 127.0.0.1:\(beaconPort)")

            let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("clever-demo-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: workspace) }
            // The last drone is configured with a stale port: it finds the station by its beacon.
            let stalePort = try await Self.closedPort()
            let fleet = try (1...drones).map { n in
                let root = workspace + "/copter-\(n)"
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                return try SimulatedDrone(id: "copter-\(n)", port: n == drones ? stalePort : port, root: root, logger: logger)
            }
            for drone in fleet.dropLast() { group.addTask { try await drone.client.run() } }
            let lost = fleet.last!
            group.addTask { try await lost.client.run(discovery: beaconListener, timeout: nil) }
            out.line("\(lost.id) starts with the stale port \(stalePort) and listens for the beacon")
            try await station.waitForDrones(fleet.count, timeout: .seconds(30))
            out.line("\(fleet.count) drones connected and identified; \(lost.id) rebound to \(lost.client.server.host):\(lost.client.server.port)")
            var byID: [String: Connection] = [:]
            for id in station.connectedIDs { byID[id] = station.connection(for: id) }

            // One action to each drone, then telemetry from each.
            for (id, link) in byID.sorted(by: { $0.key < $1.key }) {
                try await link.send("takeoff", kwargs: ["height": 1.5, "to": .string(id)])
            }
            var telemetry: [String: JSONValue] = [:]
            for (id, link) in byID {
                telemetry[id] = try await link.request("telemetry", timeout: .seconds(5))
            }

            // A broadcast, encoded once.
            let results = try server.broadcast("led_fill", kwargs: ["r": 0, "g": 128, "b": 255])
            for (_, result) in results { try await result.get().written() }
            for drone in fleet { try await drone.waitForActions(2) }
            out.line("broadcast led_fill reached \(results.count) drones")

            // Push an animation to the first drone: streamed, verified, acknowledged.
            let animation = workspace + "/animation.csv"
            var csv = "frame,x,y,z,r,g,b\n"
            for frame in 0..<40_000 { csv += "\(frame),\(Double(frame % 100) / 10),0.5,1.5,255,\(frame % 256),0\n" }
            _ = FileManager.default.createFile(atPath: animation, contents: Data(csv.utf8))
            let target = byID[fleet[0].id]!
            let pushed = try await target.pushFile(animation, to: "animations/show.csv", progress: ProgressBar("push animation.csv to \(fleet[0].id)").handler)
            let landed = FileManager.default.contents(atPath: fleet[0].root + "/animations/show.csv")
            out.line("pushed \(pushed.bytes) bytes to \(fleet[0].id): \(pushed.delivery), \(pushed.checksum?.rawValue ?? "digest") \(pushed.digest?.prefix(12) ?? "")…, on disk: \(landed?.count == csv.utf8.count ? "identical" : "MISSING")")

            // Drop one drone's link while it waits for the station's reply.
            let victim = fleet[fleet.count > 1 ? 1 : 0]
            async let resent = victim.client.connection.request(
                "show_time",
                kwargs: ["drone": .string(victim.id), "delay_ms": 300],
                timeout: .seconds(10)
            )
            try await Task.sleep(for: .milliseconds(100))
            victim.client.connection.dropLink()
            out.line("dropped the link of \(victim.id) while its request was pending")
            let answer = try await resent
            out.line(
                "\(victim.id) reconnected (link #\(victim.client.connection.linkCount)) and its resent request was answered: \(answer)"
            )

            out.line("")
            out.table(
                header: ["drone", "link", "battery V", "position", "mode", "actions received"],
                rows: fleet.map { drone in
                    let t = telemetry[drone.id]
                    return [
                        drone.id,
                        "#\(drone.client.connection.linkCount)",
                        t?["battery"]?[0]?.doubleValue.map { String(format: "%.2f", $0) } ?? "?",
                        t?["position"].map { "\($0)" } ?? "?",
                        t?["mode"]?.stringValue ?? "?",
                        drone.actions.joined(separator: ", "),
                    ]
                }
            )

            for drone in fleet { drone.client.shutdown() }
            station.shutdown()
            await beaconListener.close()
            try await group.waitForAll()
        }
        out.line("done")
    }
}

extension Demo {
    /// A loopback port with nothing listening (bound, then released).
    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }
}

/// A drone for the demo: a client with the handlers a reference drone has.
final class SimulatedDrone: Sendable {
    let id: String
    let root: String
    let client: MessagingClient
    private let received = NIOLockedValueBox<[String]>([])

    init(id: String, port: Int, root: String, logger: Logger) throws {
        self.id = id
        self.root = root
        let registry = HandlerRegistry()
        var configuration = ConnectionConfiguration()
        configuration.filePolicy = try FilePolicy(allowedRoots: [root])
        self.client = MessagingClient(
            host: "127.0.0.1",
            port: port,
            registry: registry,
            configuration: configuration,
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(100), attemptsBeforeDiscovery: 2),
            logger: logger
        )
        let received = self.received
        for action in ["takeoff", "land", "led_fill", "start"] {
            registry.onAction(action) { _, _, _ in received.withLockedValue { $0.append(action) } }
        }
        registry.onRequest("id") { _ in id }
        registry.onRequest("clover_dir") { _ in root }
        // A number in 0..<1 taken from the id, so that each drone reports its own values.
        let variation = Double(id.utf8.reduce(0) { $0 &+ Int($1) } % 100) / 100
        registry.onRequest("telemetry") { _, _, _ in
            [
                "battery": [.double(12.1 - variation), .double(0.87 - variation / 10)],
                "position": [.double(variation), .double(1 - variation), 0.0],
                "mode": "OFFBOARD",
                "armed": false,
                "yaw": .double(.nan),
            ]
        }
    }

    var actions: [String] { received.withLockedValue { $0 } }

    func waitForActions(_ count: Int) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while actions.count < count {
            guard clock.now < deadline else { throw MessagingError.timedOut(requestedValue: "actions", requestID: id, timeout: .seconds(5)) }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// Prints the demo's lines and table to standard output.
struct DemoOutput {
    func line(_ text: String) {
        print(text)
    }

    func table(header: [String], rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }.joined(separator: "  ")
        }
        print(render(header))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in rows { print(render(row)) }
    }
}
