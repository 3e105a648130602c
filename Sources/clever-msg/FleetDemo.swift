import CleverBridge
import CleverMessaging
import CleverNATS
import Foundation
import Logging

/// `clever-msg demo --nats`: two ground stations with a few simulated drones
/// each, bridged onto a local NATS server, and a fleet view across them.
enum FleetDemo {
    /// The command that starts the NATS server the demo needs.
    static let serverCommand = "nats-server -a 127.0.0.1 -p 4222"

    static func run(url: String, dronesPerStation: Int, logger: Logger) async throws {
        let out = DemoOutput()
        let consoleClient = NATSClient(configuration: try Fleet.natsConfiguration(url), logger: logger)
        do {
            try await consoleClient.connect()
        } catch {
            throw ConsoleError(
                code: "nats_unreachable",
                "the fleet demo needs a NATS server at \(url) (\(error)); start one with: \(serverCommand)")
        }
        out.line("connected to NATS at \(url)")
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("clever-fleet-demo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: workspace) }

        var stations: [(name: String, station: GroundStation, bridge: StationBridge, drones: [SimulatedDrone])] = []
        for name in ["north", "south"] {
            let station = GroundStation(host: "127.0.0.1", port: 0, logger: logger)
            let client = NATSClient(configuration: try Fleet.natsConfiguration(url), logger: logger)
            try await client.connect()
            let bridge = try StationBridge(station: station, client: client, name: name, logger: logger)
            stations.append((name, station, bridge, []))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in stations.indices {
                let (name, station, bridge, _) = stations[index]
                group.addTask { try await station.run() }
                group.addTask { try await bridge.run() }
                await bridge.waitUntilServing()
                let port = try await station.server.localAddress().port ?? 0
                let drones = try (1...dronesPerStation).map { n in
                    let root = workspace + "/\(name)/copter-\(n)"
                    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                    return try SimulatedDrone(id: "copter-\(n)", port: port, root: root, logger: logger)
                }
                for drone in drones { group.addTask { try await drone.client.run() } }
                stations[index].drones = drones
                out.line("station \(name) listening on 127.0.0.1:\(port), bridged as clever.\(name).*")
            }
            for entry in stations { try await entry.station.waitForDrones(dronesPerStation, timeout: .seconds(30)) }

            var settings = FleetView.Configuration()
            // Both stations answer well within the window; discovery ends once they have.
            settings.discoveryWindow = .seconds(5)
            settings.expectedStations = stations.count
            let view = FleetView(client: consoleClient, configuration: settings, logger: logger)
            let drones = try await view.drones()
            out.line("the fleet view sees \(drones.count) drones: \(drones.map(\.description).joined(separator: ", "))")

            let sent = try await view.send("takeoff", arguments: FleetArguments(kwargs: ["height": 1.5]), to: .all)
            for entry in stations { for drone in entry.drones { try await drone.waitForActions(1) } }
            out.line("takeoff sent to all \(sent.count) drones through NATS; every drone received it")

            let replies = try await view.request("telemetry", from: .all)
            let answered = replies.filter { (try? $0.result.get()) != nil }.count
            out.line("request-all telemetry: \(answered) of \(replies.count) drones answered")
            for reply in replies { if case .failure(let error) = reply.result { out.line("  \(reply.drone): error: \(error.message)") } }
            out.table(
                header: ["drone", "battery V", "mode"],
                rows: replies.map { reply in
                    let value = try? reply.result.get()
                    return [
                        reply.drone.description,
                        value?["battery"]?[0]?.doubleValue.map { String(format: "%.2f", $0) } ?? "?",
                        value?["mode"]?.stringValue ?? (reply.result.failureCode ?? "?"),
                    ]
                })

            let instant = Date().timeIntervalSince1970 + 2
            let outcomes = try await view.start(at: instant, action: "start", target: .all)
            for outcome in outcomes {
                switch outcome.result {
                case .success(let reply):
                    let offset = outcome.clock.map { "offset \(Console.signed($0.offset)) ms ± \(String(format: "%.3f", Console.milliseconds($0.uncertainty))) ms" } ?? ""
                    out.line("timed start at \(String(format: "%.3f", instant)): \(outcome.station) acknowledged by \(reply.succeeded.count), failed on \(reply.failed.count) (station clock \(offset))")
                    for (drone, error) in reply.failed.sorted(by: { $0.key < $1.key }) { out.line("  \(outcome.station)/\(drone): error: \(error.message)") }
                case .failure(let error):
                    out.line("timed start: \(outcome.station): error: \(error.message)")
                }
            }

            await consoleClient.close()
            for entry in stations {
                for drone in entry.drones { drone.client.shutdown() }
                entry.bridge.shutdown()
                entry.station.shutdown()
                await entry.bridge.client.close()
            }
            try await group.waitForAll()
        }
        out.line("done")
    }
}

extension Result where Failure == FleetError {
    /// The error's code, when it failed.
    fileprivate var failureCode: String? {
        if case .failure(let error) = self { error.code } else { nil }
    }
}
