import NIOConcurrencyHelpers

/// The ground station's ``TelemetryTable`` under a lock, filled by a handler
/// for the `telemetry` action (the reference drone's push, `../shared/protocol/DRONE.md` §1.2):
/// kwargs `{"value": record}`, from any drone, reference or of this library.
final class TelemetryStore: Sendable {
    /// The action name drones push their records with.
    static let action = "telemetry"

    private let table = NIOLockedValueBox(TelemetryTable())
    /// Streams of ``GroundStation/telemetryUpdates()``.
    private let subscribers = EventSubscribers<TelemetrySample>()

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
        case .decoding(let handler):
            registry.onAction(Self.action) { [self] connection, _, kwargs in
                store(connection, kwargs)
                try handler.run(connection, Self.action, .values(kwargs))
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
        table.withLockedValue { table in
            table.record(record, from: id, at: now)
            // Published under the table's lock, so that every stream sees a drone's records in order (publishing never waits).
            guard subscribers.hasSubscribers, let sample = table.latest(of: id, at: now) else { return }
            subscribers.publish(sample)
        }
    }

    /// A stream of every record from now on (each call gets its own).
    func updates() -> AsyncStream<TelemetrySample> {
        subscribers.subscribe(buffering: 10_000)
    }

    /// Ends every stream of ``updates()`` (the station stopped).
    func finishUpdates() {
        subscribers.finish()
    }

    /// Reads the table.
    func read<T>(_ body: (TelemetryTable) -> T) -> T {
        table.withLockedValue { body($0) }
    }
}
