/// A simulated drone's flight state: where it is, where it is going, armed and mode.
///
/// Motion is a straight line from one point to another over a time; the
/// position at any instant is read from it, so no timer moves the drone.
public struct DroneFlight: Sendable, Hashable {
    /// A point in metres.
    public struct Point: Sendable, Hashable {
        /// The coordinates.
        public var x, y, z: Double

        /// A point.
        public init(x: Double, y: Double, z: Double) {
            self.x = x
            self.y = y
            self.z = z
        }
    }

    /// Where the motion starts.
    public private(set) var from: Point
    /// Where the motion ends.
    public private(set) var to: Point
    /// When the motion starts (Unix seconds).
    public private(set) var start = 0.0
    /// How long the motion takes.
    public private(set) var duration = 0.0
    /// The yaw, in degrees.
    public var yawDegrees = 90.0
    /// Whether the motors are armed.
    public var armed = false
    /// The PX4 mode MAVROS reports.
    public var mode = "POSCTL"
    /// When a disarm follows the motion (a landing).
    public var disarmAt: Double?

    /// A drone resting at `point`.
    /// - Parameter point: where it stands.
    public init(at point: Point) {
        from = point
        to = point
    }

    /// The position at `time`.
    /// - Parameter time: Unix seconds.
    /// - Returns: the point.
    public func position(at time: Double) -> Point {
        guard duration > 0, time < start + duration else { return time >= start ? to : from }
        let f = max(0, (time - start) / duration)
        return Point(x: from.x + (to.x - from.x) * f, y: from.y + (to.y - from.y) * f, z: from.z + (to.z - from.z) * f)
    }

    /// Starts moving from the current position to `point`.
    /// - Parameters:
    ///   - point: the target.
    ///   - time: when the motion starts.
    ///   - duration: how long it takes (0: at once).
    public mutating func move(to point: Point, at time: Double, over duration: Double) {
        from = position(at: time)
        to = point
        start = time
        self.duration = max(0, duration)
    }

    /// Places the drone at `point` at once (not flying).
    /// - Parameter point: where it stands.
    public mutating func place(at point: Point) {
        from = point
        to = point
        duration = 0
    }

    /// Applies a disarm that is due by `time`.
    /// - Parameter time: Unix seconds.
    public mutating func settle(at time: Double) {
        if let when = disarmAt, when <= time {
            armed = false
            disarmAt = nil
        }
    }
}
