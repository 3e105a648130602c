import CleverMessaging

/// A simulated drone's answer to a request.
public enum DroneReply: Sendable, Hashable {
    /// The value, at once.
    case value(JSONValue)
    /// The value after a simulated delay (a calibration, a parameter load).
    case later(Duration, JSONValue)
    /// No reply: the reference's handler raised and it sent nothing (DRONE.md §2).
    case none
}
