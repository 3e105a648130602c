import CleverMessaging

/// A simulated clever-show drone as the ground station sees it (DRONE.md):
/// events in — an action, a request, the passing of time on the drone's
/// clock — and replies, telemetry records and ``DroneEffect``s out.
///
/// A value type without I/O: time is always an argument (Unix seconds on the
/// drone's own clock, `Connection.clockTime`), files come in as text, and
/// writes and restarts go out as effects for the host (``VirtualDrone``) to perform.
public struct DroneModel: Sendable, Hashable {
    /// The host name `/hostname` resolves to (the id a drone is given).
    public let hostname: String
    /// The id the drone answers `id` with (`client_id`, DRONE.md §1.1).
    public internal(set) var clientID: String
    /// The path answered to `clover_dir` (absolute).
    public var cloverDirectory: String
    /// The reported `git_version`.
    public var gitVersion: String
    /// The configuration (`config/client.ini`).
    public internal(set) var config: DroneConfig
    /// The loaded `animation.csv`.
    public internal(set) var animation = DroneAnimation.missing
    /// The task queue.
    public internal(set) var queue = DroneTaskQueue()
    /// Position, armed flag and mode.
    public internal(set) var flight: DroneFlight
    /// The LED colour (red, green, blue).
    public internal(set) var leds = [0, 0, 0]
    /// The battery charge, 0–1.
    public internal(set) var charge = 0.8
    /// Until when the FCU reboots (no heartbeat: `NO_FCU`).
    public internal(set) var fcuBackAt: Double?
    /// Until when ROS restarts (`selfcheck` is `["WAIT_ROS"]`).
    public internal(set) var rosBackAt: Double?
    /// The last time the model advanced to.
    public internal(set) var now = 0.0
    /// How long a simulated calibration takes.
    public var calibrationTime = Duration.seconds(3)
    /// How long loading `temp.params` takes.
    public var parameterLoadTime = Duration.seconds(1)

    /// Climb and descent speed, metres a second.
    static let climbSpeed = 1.0
    /// Landing speed, metres a second.
    static let landingSpeed = 0.5

    /// A drone on the ground.
    /// - Parameters:
    ///   - hostname: its host name: the `id` it answers under the default `/hostname` setting.
    ///   - cloverDirectory: the `clover_dir` it reports.
    ///   - gitVersion: the `git_version` it reports.
    ///   - config: its configuration (default: the reference's defaults).
    ///   - position: where it stands.
    public init(hostname: String, cloverDirectory: String, gitVersion: String, config: DroneConfig = .reference,
                position: DroneFlight.Point = .init(x: 0, y: 0, z: 0)) {
        self.hostname = hostname
        self.cloverDirectory = cloverDirectory
        self.gitVersion = gitVersion
        self.config = config
        self.flight = DroneFlight(at: position)
        self.clientID = ""
        self.clientID = resolvedID()
    }

    /// The `client_id` the configured `id` gives (DRONE.md §1.1).
    func resolvedID() -> String {
        let id = config.string("id")
        switch id {
        case "/hostname": return hostname
        case "/default":
            let digits = hostname.utf8.reduce(7) { ($0 &* 31 &+ Int($1)) % 10_000 }
            return "copter" + String(String(digits + 10_000).suffix(4))
        case "/ip": return "127.0.0.1"
        default: return id.lowercased()
        }
    }

    /// Whether the FCU is rebooting at the current time.
    var fcuDown: Bool { fcuBackAt.map { now < $0 } ?? false }

    /// The FCU system state.
    var fcuStatus: String { fcuDown ? "NO_FCU" : flight.armed ? "ACTIVE" : "STANDBY" }

    // MARK: - Time

    /// Runs every task due by `time` and moves the drone along.
    /// - Parameter time: the drone's clock (Unix seconds); earlier than the last time: ignored.
    public mutating func advance(to time: Double) {
        guard time >= now else { return }
        if flight.armed { charge = max(0, charge - 0.002 * (time - now)) }
        while true {
            if let end = queue.runningUntil {
                guard end <= time else { break }
                finish(queue.tasks[0].kind, at: end)
                queue.finishHead()
                continue
            }
            guard let (task, start) = queue.due(at: time) else { break }
            flight.settle(at: start)
            let duration = begin(task.kind, at: start)
            queue.begin(until: start + duration)
        }
        flight.settle(at: time)
        now = time
    }

    /// Starts a task; returns how long it runs.
    private mutating func begin(_ kind: DroneTask.Kind, at time: Double) -> Double {
        let here = flight.position(at: time)
        switch kind {
        case .executeFrame(let frame):
            return execute(frame, at: time)
        case .turnOffLED:
            leds = [0, 0, 0]
            return 0
        case .takeoff:
            return climb(to: DroneFlight.Point(x: here.x, y: here.y, z: here.z + config.double("FLIGHT_takeoff_height")), at: time)
        case .land:
            return land(at: time)
        case .reachPoint(let x, let y, let z):
            return climb(to: DroneFlight.Point(x: x, y: y, z: z), at: time)
        case .disarm:
            disarm(at: time)
            return 0
        }
    }

    /// Ends a task that ran for a while.
    private mutating func finish(_ kind: DroneTask.Kind, at time: Double) {
        if case .land = kind { flight.settle(at: time) }
        if case .executeFrame(let frame) = kind, frame.action == .land { flight.settle(at: time) }
    }

    private mutating func execute(_ frame: AnimationFrame, at time: Double) -> Double {
        let point = DroneFlight.Point(x: frame.x, y: frame.y, z: frame.z)
        switch frame.action {
        case .stand, .reach:
            break
        case .arm:
            flight.armed = true
            flight.mode = "OFFBOARD"
            flight.move(to: point, at: time, over: frame.delay)
        case .fly:
            if flight.armed {
                flight.mode = "OFFBOARD"
                flight.move(to: point, at: time, over: frame.delay)
            }
        case .takeoff:
            let here = flight.position(at: time)
            leds = [frame.red, frame.green, frame.blue]
            return climb(to: DroneFlight.Point(x: here.x, y: here.y, z: here.z + config.double("FLIGHT_takeoff_height")), at: time)
        case .land:
            return land(at: time)
        }
        if !frame.yaw.isNaN { flight.yawDegrees = frame.yaw * 180 / .pi }
        leds = [frame.red, frame.green, frame.blue]
        return 0
    }

    /// Arms and flies to `point` at climbing speed (at most `FLIGHT_takeoff_time`); returns the time it takes.
    private mutating func climb(to point: DroneFlight.Point, at time: Double) -> Double {
        let here = flight.position(at: time)
        let distance = ((point.x - here.x) * (point.x - here.x) + (point.y - here.y) * (point.y - here.y) + (point.z - here.z) * (point.z - here.z)).squareRoot()
        let duration = min(distance / Self.climbSpeed, config.double("FLIGHT_takeoff_time"))
        flight.armed = true
        flight.disarmAt = nil
        flight.mode = "OFFBOARD"
        flight.move(to: point, at: time, over: duration)
        return duration
    }

    /// Descends to the ground and disarms there; returns the time it takes.
    private mutating func land(at time: Double) -> Double {
        let here = flight.position(at: time)
        guard flight.armed else { return 0 }
        let duration = min(max(0, here.z) / Self.landingSpeed, config.double("FLIGHT_land_timeout"))
        flight.mode = "AUTO.LAND"
        flight.move(to: DroneFlight.Point(x: here.x, y: here.y, z: 0), at: time, over: duration)
        flight.disarmAt = time + duration
        return duration
    }

    /// Disarms; an airborne drone drops to the ground.
    private mutating func disarm(at time: Double) {
        let here = flight.position(at: time)
        flight.armed = false
        flight.disarmAt = nil
        if here.z > 0 { flight.move(to: DroneFlight.Point(x: here.x, y: here.y, z: 0), at: time, over: 0.5) }
    }

    // MARK: - Files

    /// `animation.csv` changed (a push): reloads it; a drone on the ground is put at its start point,
    /// as an operator places a drone on the field.
    /// - Parameter text: the file's text, or `nil` when it cannot be read.
    public mutating func animationChanged(_ text: String?) {
        guard let text else {
            animation = .missing
            return
        }
        animationLoaded(text == DemoAnimation.text ? DemoAnimation.loaded : DroneAnimation(text: text, config: config))
    }

    /// An animation was loaded (with any configuration): its frame lists are re-derived with the drone's.
    /// - Parameter loaded: the animation.
    public mutating func animationLoaded(_ loaded: DroneAnimation) {
        animation = loaded
        animation.apply(config)
        if !flight.armed, let start = animation.startPoint?.frame {
            flight.place(at: DroneFlight.Point(x: start.x, y: start.y, z: 0))
        }
    }

    /// `config/client.ini` changed (a push): reloads it; a file that does not validate changes nothing.
    /// - Parameter text: the file's text, or `nil` when it cannot be read.
    public mutating func configFileChanged(_ text: String?) {
        guard let text, let loaded = try? DroneConfig(iniText: text, spec: config.spec) else { return }
        config = loaded
        animation.apply(config)
        clientID = resolvedID()
    }

    /// Replaces the configuration and re-derives what follows from it.
    mutating func adopt(_ newConfig: DroneConfig) -> [DroneEffect] {
        config = newConfig
        animation.apply(config)
        clientID = resolvedID()
        return [.writeConfig(config.iniText)]
    }
}
