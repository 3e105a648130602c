import ArgumentParser
import CleverBridge
import CleverMessaging
import CleverNATS
import Foundation
import Logging

/// `serve --nats URL[,URL…] --station NAME`: the station joins a fleet over NATS.
struct FleetJoinArguments: ParsableArguments {
    @Option(help: "Join the fleet on these NATS servers (nats://HOST:PORT, comma-separated: a cluster).")
    var nats: String?

    @Option(help: "With --nats: the station's name in the fleet (one NATS subject token).")
    var station: String?

    /// The server URLs of `--nats`.
    var urls: [String] { nats.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? [] }

    func validate() throws {
        guard let nats else {
            if station != nil { throw ValidationError("--station names the station in a fleet: it needs --nats") }
            return
        }
        guard let station else { throw ValidationError("--nats needs --station NAME") }
        guard FleetSubjects.token(station), station != FleetSubjects.allDrones else {
            throw ValidationError("--station must be one NATS subject token (no '.', '*', '>' or spaces, not \"all\"), got \"\(station)\"")
        }
        do {
            _ = try NATSConfiguration(urls: urls)
        } catch {
            throw ValidationError("--nats \(nats): \(error)")
        }
    }

    /// The bridge of `station` onto the fleet, its client connected; `nil` without `--nats`.
    func connect(_ groundStation: GroundStation, out: LinePrinter, logger: Logger) async throws -> StationBridge? {
        guard let name = station, !urls.isEmpty else { return nil }
        var configuration = try NATSConfiguration(urls: urls)
        configuration.name = "clever-msg serve \(name)"
        // The station outlives any NATS outage: keep trying.
        configuration.maximumReconnectAttempts = nil
        let client = NATSClient(configuration: configuration, logger: logger)
        do {
            try await client.connect()
        } catch {
            throw ValidationError("cannot join the fleet on \(urls.joined(separator: ",")): \(error)")
        }
        let bridge = try StationBridge(station: groundStation, client: client, name: name, logger: logger) { event in
            switch event {
            case .disconnected(let error):
                out.print(["nats": "disconnected", "error": error.map { .string("\($0)") } ?? .null],
                          text: "! NATS connection lost\(error.map { ": \($0)" } ?? ""); the station keeps serving its drones")
            case .reconnected(let server):
                out.print(["nats": "reconnected", "server": .string("\(server)")], text: "NATS reconnected to \(server); drones announced again")
            default:
                break
            }
        }
        out.print(["fleet": .string(name), "nats": .string(urls.joined(separator: ","))],
                  text: "station \(name) joined the fleet on \(urls.joined(separator: ","))")
        return bridge
    }
}
