// A ground station and one drone in one process, on 127.0.0.1: one action with
// typed arguments, one request with a typed reply, one file push, one `catch`.
import CleverMessaging
import Foundation

struct LEDColor: Codable, Sendable { var r: Int, g: Int, b: Int }
struct Telemetry: Codable, Sendable { var battery: Double, armed: Bool }

@main
struct StationAndDrone {
    static func main() async throws {
        // The drone: what it does when the station sends an action or asks for a value.
        let drone = HandlerRegistry()
        drone.onRequest("id") { _ in "copter-1" }
        drone.onRequest("telemetry") { _ in Telemetry(battery: 11.6, armed: false) }
        drone.onAction("led_fill", decoding: LEDColor.self) { _, color in print("drone: LEDs set to \(color)") }
        let root = NSTemporaryDirectory() + "copter-1"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let files = ConnectionConfiguration(filePolicy: try FilePolicy(allowedRoots: [root]))

        let station = GroundStation(host: "127.0.0.1", port: 0)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await station.run() }
            let port = try await station.server.localAddress().port ?? 0
            let client = MessagingClient(host: "127.0.0.1", port: port, registry: drone, configuration: files)
            group.addTask { try await client.run() }

            do throws(MessagingError) {
                try await station.waitForDrones(1, timeout: .seconds(5))
                let sent = try await station.broadcast("led_fill", arguments: LEDColor(r: 255, g: 0, b: 0))
                print("station: led_fill reached \(sent.succeeded)")
                let telemetry = try await station.request("telemetry", from: "copter-1", as: Telemetry.self, timeout: .seconds(2))
                print("station: copter-1 reports \(telemetry)")
                let pushed = try await station.connection(for: "copter-1")?.pushFile(#filePath, to: "show/animation.swift")
                print("station: pushed \(pushed?.bytes ?? 0) bytes")
            } catch {
                print("station: failed with \(error.code): \(error.message)")
            }
            client.shutdown()
            station.shutdown()
        }
    }
}
