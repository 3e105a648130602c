/// A drone's clock crossed the station's threshold
/// (``ClockConfiguration/threshold``), in one direction or the other
/// (``GroundStation/clockEvents()``).
public enum ClockEvent: Sendable, Hashable {
    /// The drone's offset is now beyond the threshold (either way); said once
    /// until it comes back within it.
    case exceeded(droneID: String, ClockOffset)
    /// The drone's offset, beyond the threshold before, is within it again.
    case withinThreshold(droneID: String, ClockOffset)

    /// The drone the event is about.
    public var droneID: String {
        switch self {
        case .exceeded(let id, _), .withinThreshold(let id, _): return id
        }
    }

    /// The offset measured.
    public var offset: ClockOffset {
        switch self {
        case .exceeded(_, let offset), .withinThreshold(_, let offset): return offset
        }
    }
}
