/// The latest telemetry record of each drone and when it arrived: one table
/// for the whole fleet, no task or timer per drone; a record's age is
/// computed when it is read.
///
/// A value type, with time as an input: the station keeps one under a lock
/// and passes the current instant in.
struct TelemetryTable: Sendable {
    private struct Entry: Sendable {
        var record: JSONValue
        var received: ContinuousClock.Instant
        var count: Int
    }

    private var entries: [String: Entry] = [:]

    /// How many drones have pushed a record.
    var count: Int { entries.count }

    /// Keeps `record` as the latest of drone `id`, received at `instant`.
    mutating func record(_ record: JSONValue, from id: String, at instant: ContinuousClock.Instant) {
        if var entry = entries[id] {
            // A record that arrived earlier (pushed by two event loops at once) never replaces a later one.
            guard instant >= entry.received else { return }
            entry.record = record
            entry.received = instant
            entry.count += 1
            entries[id] = entry
        } else {
            entries[id] = Entry(record: record, received: instant, count: 1)
        }
    }

    /// The latest record of drone `id`, with its age at `now`, or `nil` when it pushed none.
    func latest(of id: String, at now: ContinuousClock.Instant) -> TelemetrySample? {
        entries[id].map { Self.sample(id, $0, now) }
    }

    /// The latest record of every drone that pushed one, with their ages at `now`, sorted by id.
    func all(at now: ContinuousClock.Instant) -> [TelemetrySample] {
        entries.map { Self.sample($0.key, $0.value, now) }.sorted { $0.droneID < $1.droneID }
    }

    /// The age at `now` of every drone's latest record, in no order (cheap: no record is copied).
    func ages(at now: ContinuousClock.Instant) -> [Duration] {
        entries.values.map { max(.zero, $0.received.duration(to: now)) }
    }

    /// Forgets drone `id`'s records.
    mutating func remove(_ id: String) {
        entries.removeValue(forKey: id)
    }

    private static func sample(_ id: String, _ entry: Entry, _ now: ContinuousClock.Instant) -> TelemetrySample {
        TelemetrySample(droneID: id, record: entry.record, age: max(.zero, entry.received.duration(to: now)), count: entry.count)
    }
}
