/// How a ``GroundStation`` measures its drones' clocks.
///
/// The station measures each drone once its link is open (after identify,
/// unless ``measuresOnLink`` is off) and every ``interval`` after that, from one loop for the whole fleet (no task or
/// timer per drone), at most ``concurrency`` drones at once. A measurement
/// takes ``samples`` exchanges one after the other and keeps the one with the
/// smallest round trip (``ClockOffset``).
public struct ClockConfiguration: Sendable, Hashable {
    /// How often each drone is measured again (default 10 s); `nil`: only when
    /// its link opens, on demand (``GroundStation/measureClocks(of:)``) and
    /// before a timed start.
    public var interval: Duration?
    /// Whether a drone is measured as soon as its link opens (default `true`).
    /// With this off and ``interval`` `nil`, clocks are measured only on demand
    /// and before a timed start: the station sends no request of its own.
    public var measuresOnLink: Bool
    /// How many exchanges make a measurement (default 5).
    public var samples: Int
    /// How long one exchange may take before it counts as failed (default 1 s).
    public var sampleTimeout: Duration
    /// The offset, either way, beyond which ``ClockEvent/exceeded(droneID:_:)`` is said (default 50 ms).
    public var threshold: Duration
    /// How many drones are measured at once (default 64).
    public var concurrency: Int

    /// A configuration.
    /// - Parameters:
    ///   - interval: how often each drone is measured again (default 10 s; `nil`: when its link opens and on demand).
    ///   - measuresOnLink: whether a drone is measured as soon as its link opens (default `true`).
    ///   - samples: exchanges per measurement (default 5).
    ///   - sampleTimeout: how long one exchange may take (default 1 s).
    ///   - threshold: the offset beyond which an event is said (default 50 ms).
    ///   - concurrency: drones measured at once (default 64).
    public init(
        interval: Duration? = .seconds(10),
        measuresOnLink: Bool = true,
        samples: Int = 5,
        sampleTimeout: Duration = .seconds(1),
        threshold: Duration = .milliseconds(50),
        concurrency: Int = 64
    ) {
        self.interval = interval
        self.measuresOnLink = measuresOnLink
        self.samples = max(1, samples)
        self.sampleTimeout = sampleTimeout
        self.threshold = threshold
        self.concurrency = max(1, concurrency)
    }
}
