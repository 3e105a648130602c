import NIOConcurrencyHelpers

/// The ground station's ``TelemetryTable`` under a lock, filled by a handler
/// for the `telemetry` action (the reference drone's push, `../shared/protocol/DRONE.md` §1.2):
/// kwargs `{"value": record}`, from any drone, reference or of this library.
final class TelemetryStore: Sendable {
    /// The action name drones push their records with.
    static let action = "telemetry"

    private struct State {
        var table = TelemetryTable()
        /// Streams of ``GroundStation/telemetryUpdates()``, by key.
        var subscribers: [Int: AsyncStream<TelemetrySample>.Continuation] = [:]
        var nextSubscriber = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Registers the handler that stores every pushed record in `registry`; a
    /// handler for `telemetry` (or for any action) registered before still
    /// runs, after the record is stored.
    func install(on registry: HandlerRegistry) {
        let earlier = registry.action(Self.action)
        switch earlier {
        case .async(let handler):
            registry.onAction(Self.action) { @Sendable [self] (connection: Connection, args: [JSONValue], kwargs: JSONObject) async throws in
                store(connection, kwargs)
                try await handler(connection, args, kwargs)
            }
        case .sync(let handler):
            registry.onAction(Self.action) { [self] connection, args, kwargs in
                store(connection, kwargs)
                try handler(connection, args, kwargs)
            }
        case nil:
            registry.onAction(Self.action) { [self] connection, _, kwargs in store(connection, kwargs) }
        }
    }

    /// Stores the record of one push (an action without `value`, or from a link
    /// not identified, is ignored).
    private func store(_ connection: Connection, _ kwargs: JSONObject) {
        guard let record = kwargs["value"], let id = connection.handshakeResult(IdentifyStage.Identity.self)?.id else { return }
        let now = ContinuousClock.now
        state.withLockedValue { s in
            s.table.record(record, from: id, at: now)
            // Yielded under the lock, so that every stream sees a drone's records in order (yielding never waits).
            guard !s.subscribers.isEmpty, let sample = s.table.latest(of: id, at: now) else { return }
            for subscriber in s.subscribers.values { subscriber.yield(sample) }
        }
    }

    /// A stream of every record from now on (each call gets its own).
    func updates() -> AsyncStream<TelemetrySample> {
        let (stream, continuation) = AsyncStream<TelemetrySample>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let key = state.withLockedValue { s -> Int in
            s.nextSubscriber += 1
            s.subscribers[s.nextSubscriber] = continuation
            return s.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.subscribers.removeValue(forKey: key) }
        }
        return stream
    }

    /// Ends every stream of ``updates()`` (the station stopped).
    func finishUpdates() {
        let subscribers = state.withLockedValue { s in
            defer { s.subscribers = [:] }
            return Array(s.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    /// Reads the table.
    func read<T>(_ body: (TelemetryTable) -> T) -> T {
        state.withLockedValue { body($0.table) }
    }
}
