import CleverMessaging

extension DroneModel {
    /// Handles a one-way action as the reference drone does (DRONE.md §3).
    /// - Parameters:
    ///   - name: the action.
    ///   - kwargs: its keyword arguments.
    ///   - time: the drone's clock at arrival (Unix seconds).
    /// - Returns: what the host must do (write the config, restart).
    public mutating func handleAction(_ name: String, kwargs: JSONObject, at time: Double) -> [DroneEffect] {
        advance(to: time)
        let here = flight.position(at: now)
        switch name {
        case "start":
            // A library station's timed start (`x-clever-start`) calls this at the instant, without `time`.
            let start: Double?
            if let value = kwargs["time"] { start = Self.number(value) } else { start = now }
            guard let start else { return [] }
            play(at: start)
        case "pause":
            queue.pause()
        case "resume":
            queue.resume(at: kwargs["time"].flatMap(Self.number) ?? 0, now: now)
            advance(to: now)
        case "stop":
            queue.reset()
        case "land":
            queue.reset()
            queue.add(.land, at: 0, now: now)
        case "disarm":
            queue.reset()
            queue.add(.disarm, at: -5, now: now)
        case "emergency_land":
            guard flight.armed, flight.mode == "OFFBOARD" else { return [] }
            queue.reset()
            let duration = max(0, here.z) / Self.climbSpeed
            flight.move(to: DroneFlight.Point(x: here.x, y: here.y, z: 0), at: now, over: duration)
            flight.disarmAt = now + duration
        case "takeoff":
            leds = [255, 0, 0]
            queue.add(.takeoff, at: 0, now: now)
        case "takeoff_z":
            guard let z = kwargs["z"].flatMap(Self.number), !z.isNaN else { return [] }
            queue.add(.reachPoint(x: here.x, y: here.y, z: z), at: 0, now: now)
        case "led_test":
            leds = [255, 255, 255]
        case "led_fill":
            leds = ["red", "green", "blue"].map { kwargs[$0].flatMap(Self.number).map { Int(max(0, min(255, $0))) } ?? 0 }
        case "move_start":
            let action = animation.startAction(config: config, z: here.z, fcuStatus: fcuStatus)
            guard action == "fly" || action == "takeoff", let start = animation.frames(for: action).first else { return [] }
            let own = config.vector("ANIMATION_private_offset")
            return setOffset([own[0] + here.x - start.x, own[1] + here.y - start.y, own[2]])
        case "reset_start":
            return setOffset([0, 0, config.vector("ANIMATION_private_offset")[2]])
        case "set_z_to_ground":
            let own = config.vector("ANIMATION_private_offset")
            return setOffset([own[0], own[1], here.z])
        case "reset_z_offset":
            let own = config.vector("ANIMATION_private_offset")
            return setOffset([own[0], own[1], 0])
        case "config":
            guard let written = kwargs["config"]?.objectValue else { return [] }
            let mode = kwargs["mode"]?.stringValue.flatMap(DroneConfig.WriteMode.init(rawValue:)) ?? .modify
            guard let next = try? config.writing(written, mode: mode) else { return [] }
            return adopt(next)
        case "id":
            return rename(to: kwargs["new_id"]?.stringValue)
        case "service_restart":
            switch kwargs["name"]?.stringValue {
            case "clover": rosBackAt = now + 5
            case "clever-show": return restart()
            default: break
            }
        case "reboot_fcu":
            fcuBackAt = now + 5
        case "reboot_all":
            fcuBackAt = now + 5
            return restart()
        default:
            // flip (attitude only), repair_chrony, update_repo, execute (never run here), test,
            // update_animation and unknown actions change nothing the station sees.
            break
        }
        return []
    }

    /// Queues the current start action's frames from `start` (DRONE.md §7.1).
    private mutating func play(at start: Double) {
        guard animation.state == "OK" else { return }
        let action = animation.startAction(config: config, z: flight.position(at: now).z, fcuStatus: fcuStatus)
        let frames = animation.frames(for: action)
        guard !frames.isEmpty else { return }
        var time = start
        for frame in frames {
            queue.add(.executeFrame(frame), at: time, now: now)
            time += frame.delay
        }
        queue.add(.turnOffLED, at: time, now: now)
        advance(to: now)
    }

    private mutating func setOffset(_ offset: [Double]) -> [DroneEffect] {
        var next = config
        guard (try? next.set("ANIMATION_private_offset", .array(offset.map(JSONValue.double)))) != nil else { return [] }
        return adopt(next)
    }

    /// The `id` action (DRONE.md §1.4).
    private mutating func rename(to newID: String?) -> [DroneEffect] {
        guard let newID, newID != clientID else { return [] }
        var next = config
        guard (try? next.set("id", .string(newID))) != nil else { return [] }
        var effects = adopt(next)
        clientID = newID
        if newID != "/hostname" { effects += restart() }
        return effects
    }

    /// The drone program restarts: it comes back with the configured id and an empty queue.
    private mutating func restart() -> [DroneEffect] {
        queue.reset()
        clientID = resolvedID()
        return [.restart]
    }

    /// A number, or a string holding one (the reference's `float(...)`).
    static func number(_ value: JSONValue) -> Double? {
        if case .string(let s) = value { return Double(s.trimmingSpaces()) }
        if case .bool = value { return nil }
        return value.doubleValue
    }
}
