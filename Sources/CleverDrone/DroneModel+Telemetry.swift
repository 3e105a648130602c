import CleverMessaging

extension DroneModel {
    /// The telemetry record (DRONE.md §4): the 13 keys in the reference's shapes,
    /// floats of `battery` and both positions rounded to 2 decimals.
    /// - Parameter time: the drone's clock (Unix seconds): it advances the model and is the `time_delta`.
    /// - Returns: the record.
    public mutating func telemetry(at time: Double) -> JSONValue {
        advance(to: time)
        let here = flight.position(at: now)
        let position: JSONValue = fcuDown
            ? "NO_POS"
            : [.double(Self.round(here.x)), .double(Self.round(here.y)), .double(Self.round(here.z)), .double(Self.round(flight.yawDegrees)),
               .string(config.telemetryText.frameID)]
        let battery: JSONValue = fcuDown ? [.double(.nan), .double(.nan)] : [.double(Self.round(voltage)), .double(Self.round(charge))]
        let record: JSONObject = [
            "fcu_status": .string(fcuStatus),
            "current_position": position,
            "selfcheck": selfcheck,
            "battery": battery,
            "git_version": .string(gitVersion),
            "animation_info": [animation.id.map(JSONValue.string) ?? .null, .string(animation.state)],
            "calibration_status": fcuDown ? "NO_FCU" : "OK",
            "start_position": startPosition(z: here.z),
            "mode": fcuDown ? "NO_FCU" : .string(flight.mode),
            "time_delta": .double(time),
            "armed": .bool(flight.armed),
            "config_version": .string(config.telemetryText.configVersion),
            "last_task": .string(queue.lastTask(at: now)),
        ]
        return .object(record)
    }

    /// `start_position`: `[x, y, z, yaw, action, delay]` of the `fly` list's start frame (DRONE.md §4.1).
    private func startPosition(z: Double) -> JSONValue {
        guard let (frame, delay) = animation.startPoint else {
            return [.double(.nan), .double(.nan), .double(.nan), .double(.nan), "error: can't get start pos in animation", .double(.nan)]
        }
        let action = animation.startAction(config: config, z: fcuDown ? .nan : z, fcuStatus: fcuStatus)
        let delayValue: JSONValue = delay == 0 ? .integer(0) : .double(Self.round(delay))
        return [.double(Self.round(frame.x)), .double(Self.round(frame.y)), .double(Self.round(frame.z)), .double(Self.round(frame.yaw)),
                .string(action), delayValue]
    }

    /// Rounds to 2 decimals, as the reference's `round_telemetry` does.
    static func round(_ value: Double) -> Double {
        value.isFinite ? (value * 100).rounded() / 100 : value
    }

    /// A float as Python's `str` writes it (`1.0`, `2.5`).
    static func pythonFloat(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int(value)).0" : "\(value)"
    }
}
