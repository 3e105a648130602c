import Logging

/// Pushes telemetry records at a set rate, for one connection or for
/// thousands, from the one task that runs it (no timer per connection).
///
/// Each record goes as a reference drone pushes its own (`../shared/protocol/DRONE.md`
/// §1.2): the action `telemetry`, no positional arguments, kwargs `{"value": record}`,
/// so a reference ground station and ``GroundStation`` alike keep it (see
/// ``GroundStation/telemetry(of:)``). As with the reference, a connection
/// whose link is down pushes nothing (no record is queued for later); a
/// record that cannot be queued (a full queue) is skipped, the next one is fresher.
/// For the same reason, on a link with acknowledged delivery records go
/// unnumbered: they are neither acknowledged (no acknowledgement frame per
/// record) nor resent on the next link.
///
/// With many connections the pushes are spread evenly over the period, in
/// small batches, so that the station receives a steady stream rather than
/// a burst every period.
public struct TelemetryPublisher: Sendable {
    /// The time between two records of one connection.
    public let period: Duration
    /// The shortest time between two batches (the publisher's timer resolution).
    public static let minimumTick = Duration.milliseconds(10)

    /// Creates a publisher.
    /// - Parameter period: the time between two records of one connection
    ///   (the reference pushes every second: `TELEMETRY_frequency` 1 Hz); at least 1 ms.
    public init(every period: Duration) {
        self.period = max(period, .milliseconds(1))
    }

    /// Creates a publisher that pushes `hertz` records a second per connection.
    /// - Parameter hertz: records a second (must be positive).
    public init(hertz: Double) {
        self.init(every: .nanoseconds(Int64((1e9 / max(hertz, 1e-3)).rounded())))
    }

    /// Pushes the record `record(i)` of each connection `connections[i]`, once
    /// per ``period``, until the calling task is cancelled or every connection
    /// is closed for good (``Connection/isClosed``).
    /// - Parameters:
    ///   - connections: the connections (drones) to push from.
    ///   - record: the current record of the connection at an index; called
    ///     once per push, from this task.
    public func run<Record: Encodable>(_ connections: [Connection], record: (Int) -> Record) async {
        guard !connections.isEmpty else { return }
        let count = connections.count
        // Batches of pushes `tick` apart, as many as make `count` pushes a period.
        let batches = max(1, min(count, Int(period / Self.minimumTick)))
        let tick = period / batches
        let clock = ContinuousClock()
        var next = clock.now
        var batch = 0
        var pushed = 0
        while !Task.isCancelled {
            let first = count * batch / batches
            let end = count * (batch + 1) / batches
            for index in first..<end where connections[index].isConnected {
                push(record(index), on: connections[index])
                pushed += 1
            }
            batch = (batch + 1) % batches
            if batch == 0 {
                // A whole period without a push: done if no connection can ever push again.
                if pushed == 0, connections.allSatisfy(\.isClosed) { return }
                pushed = 0
            }
            next = next.advanced(by: tick)
            // Behind (a slow machine): the next batch goes at once, and the schedule is not caught up in a burst.
            if next < clock.now { next = clock.now }
            do {
                try await clock.sleep(until: next, tolerance: .milliseconds(1))
            } catch {
                return
            }
        }
    }

    /// Queues one record on `connection` without waiting for its write.
    private func push(_ record: some Encodable, on connection: Connection) {
        let arguments: ActionArguments
        do {
            arguments = try Self.arguments(of: record)
        } catch {
            connection.logger.debug("telemetry record not encodable: \(error)")
            return
        }
        // Not numbered for acknowledged delivery: the next record supersedes this one, so it is
        // neither acknowledged (half the frames) nor resent on the next link.
        _ = try? connection.enqueueAction(TelemetryStore.action, arguments: arguments, awaited: false, sequenced: false)
    }

    /// The arguments of a telemetry push, `{"value": record}` as keyword arguments: a ``JSONValue``
    /// record as it is, any other `Encodable` encoded straight to JSON text, without a tree.
    /// - Throws: ``MessagingError/decoding(_:)`` when the record does not encode.
    package static func arguments(of record: some Encodable) throws(MessagingError) -> ActionArguments {
        if let ready = record as? JSONValue { return .values(args: [], kwargs: ["value": ready]) }
        return .encoded(try EncodedArguments(keywords: Push(value: record), of: TelemetryStore.action))
    }

    /// The keyword arguments of a push.
    private struct Push<Record: Encodable>: Encodable {
        let value: Record
    }
}
