import CleverMessaging
import Foundation

extension DroneModel {
    /// Answers a request as the reference drone does (DRONE.md §2), except
    /// `load_params` (see ``loadParameters(_:at:)``) and `filetransfer` (the library serves it).
    /// - Parameters:
    ///   - name: the requested value.
    ///   - kwargs: its keyword arguments.
    ///   - time: the drone's clock at arrival (Unix seconds).
    /// - Returns: the reply.
    public mutating func answer(_ name: String, kwargs: JSONObject, at time: Double) -> DroneReply {
        advance(to: time)
        switch name {
        case "id":
            // Writing `[PRIVATE] id` fails on the reference: no reply.
            return kwargs["new_id"] == nil ? .value(.string(clientID)) : .none
        case "clover_dir":
            return .value(.string(cloverDirectory))
        case "telemetry":
            return .value(telemetry(at: time))
        case "config":
            var reply: JSONObject = ["config": config.fullObject]
            if kwargs["send_configspec"] == true { reply["configspec"] = config.spec.specObject }
            return .value(.object(reply))
        case "calibrate_gyro", "calibrate_level":
            if fcuDown { return .value("NO_FCU") }
            return flight.armed ? .value("OK") : .later(calibrationTime, "OK")
        case "time":
            return .value(.double(time))
        case "selfcheck":
            return .value(fcuDown ? "NOT_CONNECTED_TO_FCU" : selfcheck)
        case "anim_id":
            return .value(animation.id.map(JSONValue.string) ?? .null)
        case "batt_voltage":
            return .value(.double(fcuDown ? .nan : voltage))
        case "cell_voltage":
            return .value(.double(fcuDown ? .nan : voltage / 3))
        case "sys_status":
            return .value(fcuDown ? "NOT_CONNECTED_TO_FCU" : .string(fcuStatus))
        case "cal_status":
            return .value(fcuDown ? "NOT_CONNECTED_TO_FCU" : "OK")
        case "position":
            let p = flight.position(at: now)
            return .value(.string(String(format: "%.2f %.2f %.2f %.1f ", p.x, p.y, p.z, flight.yawDegrees) + config.string("FLIGHT_frame_id")))
        default:
            return .none
        }
    }

    /// Answers `load_params` (DRONE.md §2.1): true after a simulated load when `temp.params` could be read.
    /// - Parameters:
    ///   - text: the contents of `temp.params`, or `nil` when it cannot be opened.
    ///   - time: the drone's clock (Unix seconds).
    /// - Returns: the reply.
    public mutating func loadParameters(_ text: String?, at time: Double) -> DroneReply {
        advance(to: time)
        return .later(parameterLoadTime, .bool(text != nil))
    }

    /// The pack voltage of a 3S battery at the current charge (`BAT_V_EMPTY` 3.5, `BAT_V_CHARGED` 4.05).
    var voltage: Double { 3 * (3.5 + charge * 0.55) }

    /// The `selfcheck` value.
    var selfcheck: JSONValue {
        if fcuDown { return ["NO_FCU"] }
        if let back = rosBackAt, now < back { return ["WAIT_ROS"] }
        return "OK"
    }
}
