extension GroundStation {
    /// The latest telemetry record drone `id` pushed, with its age, or `nil` when it pushed none.
    ///
    /// Drones push records with the action `telemetry` and kwargs
    /// `{"value": record}`: reference drones at `TELEMETRY_frequency` (1 Hz by
    /// default), drones of this library through ``MessagingClient/pushTelemetry(every:record:)``
    /// or a ``TelemetryPublisher``. The station keeps the latest record of each
    /// drone in one table (no task or timer per drone), also after its link
    /// dropped; the age is computed now.
    /// - Parameter id: the drone.
    /// - Returns: the record, its age and how many the drone pushed.
    public func telemetry(of id: String) -> TelemetrySample? {
        let now = ContinuousClock.now
        return telemetryStore.read { $0.latest(of: id, at: now) }
    }

    /// The latest telemetry record drone `id` pushed, decoded into `type`, with its age.
    /// - Parameters:
    ///   - id: the drone.
    ///   - type: the record type the drone pushes.
    /// - Returns: the record and its age, or `nil` when the drone pushed none.
    /// - Throws: ``MessagingError/decoding(_:)`` when the record does not decode into `type`.
    public func telemetry<Record: Decodable>(of id: String, as type: Record.Type) throws(MessagingError) -> (record: Record, age: Duration)? {
        guard let sample = telemetry(of: id) else { return nil }
        return (try sample.decode(Record.self), sample.age)
    }

    /// The latest telemetry record of every drone that pushed one, with their ages, sorted by id.
    public var latestTelemetry: [TelemetrySample] {
        let now = ContinuousClock.now
        return telemetryStore.read { $0.all(at: now) }
    }

    /// The age of every drone's latest telemetry record, in no particular order
    /// (cheaper than ``latestTelemetry``: no record is copied).
    public var telemetryAges: [Duration] {
        let now = ContinuousClock.now
        return telemetryStore.read { $0.ages(at: now) }
    }

    /// A stream of the telemetry records drones push from now on, each as it
    /// arrives (its ``TelemetrySample/age`` is then zero); each call gets its own
    /// stream, which keeps the newest 10,000 records when its reader falls
    /// behind, and ends when the station stops.
    /// - Returns: the records.
    public func telemetryUpdates() -> AsyncStream<TelemetrySample> {
        telemetryStore.updates()
    }
}
