/// A timed start a drone of this library ran: the action's handler was called
/// at ``scheduledAt`` on the drone's clock (``Connection/clockTime``), as the
/// station asked (``GroundStation/start(at:action:arguments:targets:acknowledgementTimeout:)``).
/// Given to ``HandlerRegistry/onTimedStart(_:)`` just before the handler runs.
public struct TimedStart: Sendable, Hashable, Codable {
    /// The start's id (the same on every drone of one call).
    public var id: String
    /// The action whose handler runs.
    public var action: String
    /// When it was to run, on the drone's clock, as Unix seconds.
    public var scheduledAt: Double
    /// When it ran, on the drone's clock, as Unix seconds.
    public var ranAt: Double

    /// A timed start.
    /// - Parameters:
    ///   - id: the start's id.
    ///   - action: the action.
    ///   - scheduledAt: when it was to run (drone's clock, Unix seconds).
    ///   - ranAt: when it ran (drone's clock, Unix seconds).
    public init(id: String, action: String, scheduledAt: Double, ranAt: Double) {
        self.id = id
        self.action = action
        self.scheduledAt = scheduledAt
        self.ranAt = ranAt
    }

    /// How late the handler ran (negative: early).
    public var lateness: Duration { .seconds(ranAt - scheduledAt) }

    private enum CodingKeys: String, CodingKey {
        case id, action
        case scheduledAt = "scheduled_at"
        case ranAt = "ran_at"
    }
}
