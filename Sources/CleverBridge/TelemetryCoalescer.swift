import CleverMessaging

/// The latest telemetry record of each drone, waiting to be published: a
/// record that arrives before the previous one was published replaces it.
///
/// Memory is bounded by the number of drones (one record each), however fast
/// they push; ``StationBridge`` drains it once per interval, so each drone's
/// telemetry crosses NATS at most once per interval. Socket-free and
/// clock-free: the caller decides when to drain.
public struct TelemetryCoalescer: Sendable {
    private var pending: [String: JSONValue] = [:]
    /// Drones in the order their first pending record arrived (so a drain is fair across drones).
    private var order: [String] = []
    /// How many records were replaced by a newer one before being published.
    public private(set) var coalesced = 0

    /// An empty coalescer.
    public init() {}

    /// How many drones have a record waiting.
    public var count: Int { pending.count }

    /// Keeps `record` as `droneID`'s latest, replacing one still waiting.
    /// - Parameters:
    ///   - record: the telemetry record.
    ///   - droneID: the drone.
    public mutating func offer(_ record: JSONValue, of droneID: String) {
        if pending.updateValue(record, forKey: droneID) == nil {
            order.append(droneID)
        } else {
            coalesced += 1
        }
    }

    /// Takes every waiting record, one per drone, in the order the drones first had one waiting.
    /// - Returns: the records.
    public mutating func drain() -> [(droneID: String, record: JSONValue)] {
        guard !order.isEmpty else { return [] }
        let drained = order.compactMap { id in pending[id].map { (droneID: id, record: $0) } }
        pending.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
        return drained
    }
}
