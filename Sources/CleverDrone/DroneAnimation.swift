import CleverMessaging

/// A drone's `animation.csv`, loaded and transformed by its configuration as the
/// reference does (DRONE.md §7.2): the `fly` and `takeoff` frame lists, the
/// start point and the `animation_info` state.
public struct DroneAnimation: Sendable, Hashable {
    /// The animation id: the file's first line when it has one field, `"No animation id"`
    /// when the file starts with a frame, `nil` without a file or after a delay line.
    public private(set) var id: String?
    /// `"OK"` or why the file could not be used.
    public private(set) var state: String
    /// The frames as read, yaw set from the configuration.
    public private(set) var frames: [AnimationFrame] = []
    /// The frame lists without the drone's own x and y offset, shared by every drone
    /// whose configuration differs only there (a fleet spread on a grid).
    private var baseFly: [AnimationFrame] = []
    private var baseTakeoff: [AnimationFrame] = []
    /// The configuration values the base lists were derived with.
    private var derivedWith: [Double]?
    /// The drone's own x and y offset (`ANIMATION_private_offset`), added when the frames are read.
    private var lowestZ = Double.nan
    private var ownX = 0.0
    private var ownY = 0.0

    /// The frames the `fly` start action executes.
    public var flyFrames: [AnimationFrame] { shifted(baseFly) }
    /// The frames the `takeoff` start action executes.
    public var takeoffFrames: [AnimationFrame] { shifted(baseTakeoff) }

    private func shifted(_ frames: [AnimationFrame]) -> [AnimationFrame] {
        guard ownX != 0 || ownY != 0 else { return frames }
        return frames.map { frame in
            var f = frame
            f.x += ownX
            f.y += ownY
            return f
        }
    }

    /// Everything of the configuration the base lists depend on.
    private static func derivation(_ config: DroneConfig) -> [Double] {
        let flags = ["static_begin", "takeoff", "route", "land", "static_end"].map { config.bool("ANIMATION_OUTPUT_\($0)") ? 1.0 : 0.0 }
        return config.vector("ANIMATION_ratio") + config.vector("ANIMATION_common_offset") + [config.vector("ANIMATION_private_offset")[2]]
            + [config.double("ANIMATION_takeoff_level"), config.double("FLIGHT_arming_time"), config.double("FLIGHT_takeoff_time"),
               config.double("FLIGHT_reach_first_point_time"), config.double("FLIGHT_land_delay")] + flags
    }

    /// No animation file.
    public static let missing = DroneAnimation(id: nil, state: "File animation.csv can't be opened")

    private init(id: String?, state: String) {
        self.id = id
        self.state = state
    }

    /// Loads an animation from the file's text.
    /// - Parameters:
    ///   - text: the contents of `animation.csv` (`,` separated, `|` quoting).
    ///   - config: the drone's configuration (frame delay, yaw, offsets, ratio, output flags, flight times).
    public init(text: String, config: DroneConfig) {
        self.init(id: nil, state: "OK")
        let rows = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).map { String($0).replacingBars() }
        }.filter { !($0.count == 1 && $0[0].trimmingSpaces().isEmpty) }
        guard let first = rows.first else {
            state = "Animation file is empty"
            return
        }
        var delay = config.double("ANIMATION_frame_delay")
        var body = rows[...]
        if first.count == 1 {
            id = first[0]
            body = body.dropFirst()
        } else if first.count == 2 {
            guard let d = Double(first[1].trimmingSpaces()) else {
                state = "Can't parse delay row in csv file. could not convert string to float: \(first[1])"
                return
            }
            delay = d
            body = body.dropFirst()
        } else {
            id = "No animation id"
        }
        let yawSetting = config.string("ANIMATION_yaw")
        for row in body {
            if row.count == 2, let d = Double(row[1].trimmingSpaces()) {
                delay = d
                continue
            }
            let numbers = row.map { Double($0.trimmingSpaces()) }
            guard row.count == 8, numbers.allSatisfy({ $0 != nil }), let number = Int(row[0].trimmingSpaces()) else {
                state = "Can't parse frame row in csv file. \(row.joined(separator: ","))"
                return
            }
            let n = numbers.map { $0! }
            var yaw = n[4]
            if yawSetting != "animation" {
                yaw = (Double(yawSetting) ?? .nan) * .pi / 180
            }
            frames.append(AnimationFrame(number: number, x: n[1], y: n[2], z: n[3], yaw: yaw,
                                         red: Int(n[5]), green: Int(n[6]), blue: Int(n[7]), delay: delay))
        }
        guard !frames.isEmpty else {
            state = "No frames loaded!"
            return
        }
        apply(config)
    }

    /// Re-derives the frame lists after a configuration change (the reference's `on_config_update`).
    /// - Parameter config: the new configuration.
    public mutating func apply(_ config: DroneConfig) {
        guard !frames.isEmpty else { return }
        let own = config.vector("ANIMATION_private_offset")
        ownX = own[0]
        ownY = own[1]
        let key = Self.derivation(config)
        guard key != derivedWith else { return }
        derivedWith = key
        let parts = DroneAnimationParts(frames: frames)
        let ratio = config.vector("ANIMATION_ratio")
        let common = config.vector("ANIMATION_common_offset")
        let level = config.double("ANIMATION_takeoff_level")
        var moved = frames.map { frame -> AnimationFrame in
            var f = frame
            f.x = ratio[0] * f.x + common[0]
            f.y = ratio[1] * f.y + common[1]
            f.z = ratio[2] * f.z + common[2] + own[2]
            return f
        }
        let beginAction: AnimationFrame.Action = moved[0].z < level ? .stand : .fly
        let endAction: AnimationFrame.Action = moved[moved.count - 1].z < level ? .stand : .fly
        for i in 0..<parts.takeoff { moved[i].action = beginAction }
        for i in parts.staticEnd..<moved.count { moved[i].action = endAction }
        var fly: [AnimationFrame] = []
        var takeoff: [AnimationFrame] = []
        if config.bool("ANIMATION_OUTPUT_static_begin") {
            fly += moved[0..<parts.takeoff]
            takeoff += moved[0..<parts.takeoff]
        }
        if config.bool("ANIMATION_OUTPUT_takeoff") {
            fly += moved[parts.takeoff..<parts.route]
            if parts.takeoff < moved.count, moved[parts.takeoff].z >= level { takeoff += moved[parts.takeoff..<parts.route] }
        }
        if config.bool("ANIMATION_OUTPUT_route") {
            fly += moved[parts.route..<parts.land]
            takeoff += moved[parts.route..<parts.land]
        }
        if config.bool("ANIMATION_OUTPUT_land") {
            fly += moved[parts.land..<parts.staticEnd]
            takeoff += moved[parts.land..<parts.staticEnd]
        }
        if config.bool("ANIMATION_OUTPUT_static_end") {
            fly += moved[parts.staticEnd...]
            takeoff += moved[parts.staticEnd...]
        }
        if let i = fly.firstIndex(where: { $0.action == .fly }) {
            var arm = fly[i]
            arm.action = .arm
            arm.delay = config.double("FLIGHT_arming_time")
            fly.insert(arm, at: i)
        }
        if let i = takeoff.firstIndex(where: { $0.action == .fly }) {
            takeoff[i].action = .reach
            takeoff[i].delay = config.double("FLIGHT_reach_first_point_time")
            var climb = takeoff[i]
            climb.action = .takeoff
            climb.delay = config.double("FLIGHT_takeoff_time")
            takeoff.insert(climb, at: i)
        }
        Self.markLanding(&fly, delay: config.double("FLIGHT_land_delay"))
        Self.markLanding(&takeoff, delay: config.double("FLIGHT_land_delay"))
        baseFly = fly
        baseTakeoff = takeoff
        lowestZ = fly.map(\.z).min() ?? .nan
    }

    /// The last `fly` frame becomes `land`, preceded by a copy held `delay` seconds.
    private static func markLanding(_ frames: inout [AnimationFrame], delay: Double) {
        guard let i = frames.lastIndex(where: { $0.action == .fly }) else { return }
        var hold = frames[i]
        hold.delay = delay
        frames[i].action = .land
        frames.insert(hold, at: i)
    }

    /// The frames of a start action (`fly` or `takeoff`); empty for any other.
    /// - Parameter action: the start action.
    /// - Returns: the frames.
    public func frames(for action: String) -> [AnimationFrame] {
        switch action {
        case "fly": return flyFrames
        case "takeoff": return takeoffFrames
        default: return []
        }
    }

    /// The start action (DRONE.md §7.2): `fly`, `takeoff` or an `error…` text.
    /// - Parameters:
    ///   - config: the configuration (`ANIMATION_start_action`, `ANIMATION_takeoff_level`, `ANIMATION_ground_level`).
    ///   - z: the drone's current height (NaN: unknown).
    ///   - fcuStatus: the FCU state.
    /// - Returns: the action.
    public func startAction(config: DroneConfig, z: Double, fcuStatus: String) -> String {
        guard let first = baseFly.first else { return "error: empty output frames" }
        guard !z.isNaN else { return "error: bad copter height" }
        let groundSetting = config.string("ANIMATION_ground_level")
        guard let ground = groundSetting == "current" ? z : Double(groundSetting) else {
            return "error in [ANIMATION] ground_level parameter"
        }
        if fcuStatus != "ACTIVE", ground - 0.2 > lowestZ {
            return "error: animation is lower than ground level for \(formatted(ground - lowestZ))m"
        }
        let setting = config.string("ANIMATION_start_action")
        if setting == "fly" || setting == "takeoff" { return setting }
        return first.z > config.double("ANIMATION_takeoff_level") ? "takeoff" : "fly"
    }

    /// The start point of the `fly` list and the seconds of `stand` frames before it.
    public var startPoint: (frame: AnimationFrame, delay: Double)? {
        let standing = baseFly.prefix { $0.action == .stand }
        guard standing.count < baseFly.count else { return nil }
        var start = baseFly[standing.count]
        start.x += ownX
        start.y += ownY
        return (start, standing.reduce(0) { $0 + $1.delay })
    }

    private func formatted(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = abs(hundredths % 100)
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

extension String {
    /// The text without the `|` quote characters of the reference's CSV dialect.
    func replacingBars() -> String { filter { $0 != "|" } }
}
