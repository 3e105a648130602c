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

    /// What is known of one drone: its id, and the part of its telemetry that never changes.
    private struct Known {
        let id: String
        let telemetry: JSONObject
    }

    let registry = HandlerRegistry()
    /// By connection number (numbers are handed out in order, so this stays
    /// dense): a swarm looks its drone up on every request, and an array index
    /// costs no hashing.
    private let known = NIOLockedValueBox<[Known?]>([])
    private let root: String

    /// Creates the behaviour.
    /// - Parameters:
    ///   - root: the directory files are confined to (reported as `clover_dir`).
    ///   - cloverDir: each drone's own directory, by id, when drones have one (`swarm --root`).
    ///   - report: called for each action.
    init(root: String, cloverDir: (@Sendable (String) -> String)? = nil, report: @escaping ActionReport) {
        self.root = root
        let known = self.known
        let unknown = Known(id: "copter", telemetry: Self.fixedTelemetry(for: "copter"))
        @Sendable func drone(_ connection: Connection) -> Known {
            known.withLockedValue { all in connection.number < all.count ? all[connection.number] : nil } ?? unknown
        }
        @Sendable func id(_ connection: Connection) -> String { drone(connection).id }
        registry.onRequest("id") { connection in id(connection) }
        // The drone's own clock: skewed by its configuration's clock offset (`--clock-offset`).
        registry.onRequest("time") { connection, _, _ in .double(connection.clockTime) }
        registry.onRequest("clover_dir") { connection -> String in cloverDir?(id(connection)) ?? root }
        registry.onRequest("telemetry") { connection, _, _ in Self.telemetry(fixed: drone(connection).telemetry) }
        registry.onRequest("config") { connection, _, _ in
            ["PRIVATE": ["id": .string(id(connection))], "SERVER": ["port": 25000], "FLOOR_FRAME": ["frame_id": "aruco_map"]]
        }
        registry.onAnyAction { connection, action, args, kwargs in report(id(connection), action, args, kwargs) }
    }

    /// Calls `report` with the drone's id for each timed start, as its handler is about to run.
    func onTimedStart(_ report: @escaping @Sendable (String, TimedStart) -> Void) {
        let known = self.known
        registry.onTimedStart { connection, start in
            let id = known.withLockedValue { all in connection.number < all.count ? all[connection.number]?.id : nil }
            report(id ?? "copter", start)
        }
    }

    /// Declares which drone a connection belongs to.
    func assign(id: String, to connection: Connection) {
        let drone = Known(id: id, telemetry: Self.fixedTelemetry(for: id))
        known.withLockedValue { all in
            if all.count <= connection.number { all.append(contentsOf: repeatElement(nil, count: connection.number + 1 - all.count)) }
            all[connection.number] = drone
        }
    }

    /// The telemetry record of the drone on `connection`, as its push carries it.
    func telemetry(of connection: Connection) -> JSONValue {
        let fixed = known.withLockedValue { all in connection.number < all.count ? all[connection.number]?.telemetry : nil }
        return Self.telemetry(fixed: fixed ?? Self.fixedTelemetry(for: "copter"))
    }

    /// A plausible telemetry dictionary, varying by id.
    static func telemetry(for id: String) -> JSONValue {
        telemetry(fixed: fixedTelemetry(for: id))
    }

    /// The telemetry made of its fixed part and the current time (the last member).
    static func telemetry(fixed: JSONObject) -> JSONValue {
        var telemetry = fixed
        telemetry["time"] = .double(Date().timeIntervalSince1970)
        return .object(telemetry)
    }

    /// Everything of the telemetry of `id` but the time: computed once per drone.
    static func fixedTelemetry(for id: String) -> JSONObject {
        // A number in 0..<1 taken from the id, so that each drone reports its own values.
        let variation = Double(id.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF } % 1000) / 1000
        return [
            "git_version": "swift",
            "animation_id": "show",
            "battery": [.double((12.4 - variation).rounded(toPlaces: 2)), .double((0.95 - variation / 4).rounded(toPlaces: 2))],
            "fcu_status": "STANDBY",
            "calibration_status": "OK",
            "mode": "OFFBOARD",
            "armed": false,
            "selfcheck": ["OK"],
            "current_position": [.double(variation * 4), .double(variation * 2), 0.0, .double(.nan)],
            "start_position": [.double(variation * 4), .double(variation * 2), 0.0],
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
