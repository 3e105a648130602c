/// One frame of a drone's animation: a point, a yaw, a colour, what the drone
/// does with it and how long until the next frame (DRONE.md §7).
public struct AnimationFrame: Sendable, Hashable {
    /// What executing the frame does (DRONE.md §7.1).
    public enum Action: String, Sendable, Hashable {
        /// LEDs only (the drone stays on the ground).
        case stand
        /// Sets the position setpoint with auto-arming.
        case arm
        /// Sets the position setpoint.
        case fly
        /// LEDs only (a reference quirk: it moves nothing).
        case reach
        /// Climbs the takeoff height.
        case takeoff
        /// Lands and disarms.
        case land
    }

    /// The frame's number in the file.
    public var number: Int
    /// The point, in metres.
    public var x: Double
    /// The point, in metres.
    public var y: Double
    /// The point, in metres.
    public var z: Double
    /// The yaw, in radians (NaN: keep the current yaw).
    public var yaw: Double
    /// The LED colour, 0–255 each.
    public var red: Int
    /// The LED colour, 0–255 each.
    public var green: Int
    /// The LED colour, 0–255 each.
    public var blue: Int
    /// The action.
    public var action: Action = .fly
    /// The seconds from this frame to the next.
    public var delay: Double

    /// Whether the drone moves more than `delta` metres along an axis from this frame to `other`.
    /// - Parameters:
    ///   - other: the other frame.
    ///   - delta: the threshold in metres.
    ///   - vertical: whether z counts.
    /// - Returns: whether it moves.
    func moves(to other: AnimationFrame, by delta: Double, vertical: Bool = true) -> Bool {
        abs(x - other.x) > delta || abs(y - other.y) > delta || (vertical && abs(z - other.z) > delta)
    }
}
