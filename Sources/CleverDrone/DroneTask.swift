/// One task of a simulated drone's queue (DRONE.md §3): what it does and when it is due.
public struct DroneTask: Sendable, Hashable {
    /// What the task does.
    public enum Kind: Sendable, Hashable {
        /// Executes an animation frame.
        case executeFrame(AnimationFrame)
        /// Turns the LEDs off (after a show's frames).
        case turnOffLED
        /// Climbs the takeoff height.
        case takeoff
        /// Lands and disarms.
        case land
        /// Flies to a point (`takeoff_z`).
        case reachPoint(x: Double, y: Double, z: Double)
        /// Disarms.
        case disarm

        /// The name `last_task` shows: the reference's function name.
        public var name: String {
            switch self {
            case .executeFrame: return "execute_frame"
            case .turnOffLED: return "turn_off_led"
            case .takeoff: return "takeoff"
            case .land: return "land"
            case .reachPoint: return "reach_point"
            case .disarm: return "arming_wrapper"
            }
        }
    }

    /// When it is due, as Unix seconds on the drone's clock (before any pause shift).
    public var timestamp: Double
    /// Orders tasks due at the same moment (lower first).
    public var priority: Int
    /// Orders tasks of the same moment and priority (the order they were queued).
    public var counter: Int
    /// What it does.
    public var kind: Kind

    /// Whether this task runs before `other`.
    func precedes(_ other: DroneTask) -> Bool {
        (timestamp, priority, counter) < (other.timestamp, other.priority, other.counter)
    }
}
