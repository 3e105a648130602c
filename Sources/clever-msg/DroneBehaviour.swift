import CleverMessaging
import Foundation
import NIOConcurrencyHelpers

/// The handlers of a simulated drone, shaped like a reference drone's: it
/// answers `id`, `time`, `clover_dir`, `telemetry` and `config`, and reports
/// every action it receives. One registry can serve many drones (`swarm`):
/// the drone's id is looked up by the connection it came on.
final class DroneBehaviour: Sendable {
    /// Called for every action received: (drone id, action, args, kwargs).
    typealias ActionReport = @Sendable (String, String, [JSONValue], JSONObject) -> Void

    let registry = HandlerRegistry()
    private let ids = NIOLockedValueBox<[Int: String]>([:])
    private let root: String

    /// Creates the behaviour.
    /// - Parameters:
    ///   - root: the directory files are confined to (reported as `clover_dir`).
    ///   - report: called for each action.
    init(root: String, report: @escaping ActionReport) {
        self.root = root
        let ids = self.ids
        @Sendable func id(_ connection: Connection) -> String { ids.withLockedValue { $0[connection.number] } ?? "copter" }
        registry.onRequest("id") { connection, _, _ in .string(id(connection)) }
        registry.onRequest("time") { _, _, _ in .double(Date().timeIntervalSince1970) }
        registry.onRequest("clover_dir") { _, _, _ in .string(root) }
        registry.onRequest("telemetry") { connection, _, _ in Self.telemetry(for: id(connection)) }
        registry.onRequest("config") { connection, _, _ in
            ["PRIVATE": ["id": .string(id(connection))], "SERVER": ["port": 25000], "FLOOR_FRAME": ["frame_id": "aruco_map"]]
        }
        registry.onAnyAction { connection, action, args, kwargs in report(id(connection), action, args, kwargs) }
    }

    /// Declares which drone a connection belongs to.
    func assign(id: String, to connection: Connection) {
        ids.withLockedValue { $0[connection.number] = id }
    }

    /// A plausible telemetry dictionary, varying by id.
    static func telemetry(for id: String) -> JSONValue {
        let seed = Double(id.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF } % 1000) / 1000
        return [
            "git_version": "swift",
            "animation_id": "show",
            "battery": [.double((12.4 - seed).rounded(toPlaces: 2)), .double((0.95 - seed / 4).rounded(toPlaces: 2))],
            "fcu_status": "STANDBY",
            "calibration_status": "OK",
            "mode": "OFFBOARD",
            "armed": false,
            "selfcheck": ["OK"],
            "current_position": [.double(seed * 4), .double(seed * 2), 0.0, .double(.nan)],
            "start_position": [.double(seed * 4), .double(seed * 2), 0.0],
            "time": .double(Date().timeIntervalSince1970),
        ]
    }
}

extension Double {
    /// The value rounded to `places` decimal places.
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}
