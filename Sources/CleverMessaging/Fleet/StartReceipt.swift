/// How one drone took a timed start
/// (``GroundStation/start(at:action:arguments:targets:acknowledgementTimeout:)``).
public struct StartReceipt: Sendable, Hashable, Codable {
    /// What the station knows of the drone's having it.
    public enum Confirmation: String, Sendable, Hashable, Codable {
        /// The drone answered that the start is scheduled (a drone of this
        /// library), or acknowledged the action (acknowledged delivery).
        case acknowledged
        /// The action was written to a reference drone's socket, which is all
        /// that a reference drone confirms.
        case sent
    }

    /// What the station knows of the drone's having it.
    public var confirmation: Confirmation
    /// How many times it was sent again before that (0: the first was enough).
    public var retries: Int
    /// The instant on the drone's clock, as Unix seconds: what it was sent.
    public var droneTime: Double
    /// The drone's clock offset the instant was corrected by.
    public var clockOffset: ClockOffset

    /// A receipt.
    /// - Parameters:
    ///   - confirmation: what the station knows of the drone's having it.
    ///   - retries: how many times it was sent again.
    ///   - droneTime: the instant on the drone's clock.
    ///   - clockOffset: the offset used.
    public init(confirmation: Confirmation, retries: Int, droneTime: Double, clockOffset: ClockOffset) {
        self.confirmation = confirmation
        self.retries = retries
        self.droneTime = droneTime
        self.clockOffset = clockOffset
    }

    private enum CodingKeys: String, CodingKey {
        case confirmation, retries
        case droneTime = "drone_time"
        case clockOffset = "clock_offset"
    }
}

/// One outcome per drone of a timed start
/// (``GroundStation/start(at:action:arguments:targets:acknowledgementTimeout:)``):
/// its receipt, or why it was unreachable.
public typealias StartResults = DroneResults<StartReceipt>
