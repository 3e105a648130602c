/// A drone's latest telemetry record as the ground station holds it
/// (``GroundStation/telemetry(of:)``): the record, how old it is, and how
/// many the drone pushed.
public struct TelemetrySample: Sendable, Hashable {
    /// The drone's id.
    public var droneID: String
    /// The record, as pushed (the `value` of the drone's `telemetry` action).
    public var record: JSONValue
    /// How long ago it arrived, when it was read.
    public var age: Duration
    /// How many records the drone pushed since the station started.
    public var count: Int

    /// Creates a sample.
    /// - Parameters:
    ///   - droneID: the drone's id.
    ///   - record: the record.
    ///   - age: its age.
    ///   - count: the records pushed.
    public init(droneID: String, record: JSONValue, age: Duration, count: Int) {
        self.droneID = droneID
        self.record = record
        self.age = age
        self.count = count
    }

    /// The record decoded into `type` (the record type the drones push).
    /// - Parameter type: the type to decode.
    /// - Returns: the decoded record.
    /// - Throws: ``MessagingError/decoding(_:)`` when the record does not decode.
    public func decode<Record: Decodable>(_ type: Record.Type) throws(MessagingError) -> Record {
        try MessageArguments.decode(record, as: Record.self, name: TelemetryStore.action)
    }
}
