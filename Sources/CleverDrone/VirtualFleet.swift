import CleverMessaging
import NIOConcurrencyHelpers

/// Simulated drones on one `HandlerRegistry`: one drone or thousands in a
/// process, each on its own `MessagingClient` connection, found by the
/// connection's number (an array index, no hashing) on every frame.
///
/// It registers the reference drone's requests (DRONE.md §2) and one handler
/// for every action (§3), and loads pushed animations. Each event reads the
/// drone's clock (`Connection.clockTime`), so a `--clock-offset` drone
/// runs its timed starts by its own time.
public final class VirtualFleet: Sendable {
    /// Called after each action a drone handled: (drone, action, args, kwargs).
    public typealias ActionReport = @Sendable (VirtualDrone, String, [JSONValue], JSONObject) -> Void
    /// Called after each file a drone received: (drone, the path it was written to).
    public typealias FileReport = @Sendable (VirtualDrone, String) -> Void

    /// The registry to give each drone's `MessagingClient`.
    public let registry: HandlerRegistry
    private let drones = NIOLockedValueBox<[VirtualDrone?]>([])

    /// The requests a drone answers after a simulated delay.
    static let slowRequests = ["calibrate_gyro", "calibrate_level", "load_params"]
    /// The requests answered at once.
    static let requests = ["id", "clover_dir", "telemetry", "config", "time", "selfcheck", "anim_id", "batt_voltage",
                           "cell_voltage", "sys_status", "cal_status", "position"]

    /// A request the reference drone leaves unanswered (its handler raised).
    public struct NoReply: Error, Sendable, Hashable {
        /// The request.
        public var request: String
    }

    /// Creates the fleet and registers its handlers.
    /// - Parameters:
    ///   - registry: the registry to register on (default: a new one).
    ///   - report: called after each action.
    ///   - fileReport: called after each file received (the registry's file
    ///     handler is the fleet's: set no other).
    public init(registry: HandlerRegistry = HandlerRegistry(), report: ActionReport? = nil, fileReport: FileReport? = nil) {
        self.registry = registry
        let drones = self.drones
        @Sendable func drone(_ connection: Connection) -> VirtualDrone? {
            drones.withLockedValue { all in connection.number < all.count ? all[connection.number] : nil }
        }
        for name in Self.requests {
            registry.onRequest(name) { connection, _, kwargs throws -> JSONValue in
                guard let drone = drone(connection) else { throw NoReply(request: name) }
                let time = connection.clockTime
                switch drone.withModel({ $0.answer(name, kwargs: kwargs, at: time) }) {
                case .value(let value), .later(_, let value): return value
                case .none: throw NoReply(request: name)
                }
            }
        }
        for name in Self.slowRequests {
            registry.onRequest(name) { connection, _, kwargs async throws -> JSONValue in
                guard let drone = drone(connection) else { throw NoReply(request: name) }
                let time = connection.clockTime
                let reply: DroneReply
                if name == "load_params" {
                    // The file is read once the simulated load is over: a `temp.params` pushed just
                    // before the request may still be on its way to disk (the reference, one thread,
                    // wrote it before reading the request).
                    try await Task.sleep(for: drone.withModel { $0.parameterLoadTime })
                    let text = drone.sandbox.flatMap { $0.read($0.parametersPath) }
                    let loaded = drone.withModel { $0.loadParameters(text, at: connection.clockTime) }
                    if case .later(_, let value) = loaded { return value }
                    reply = loaded
                } else {
                    reply = drone.withModel { $0.answer(name, kwargs: kwargs, at: time) }
                }
                switch reply {
                case .value(let value): return value
                case .later(let delay, let value):
                    try await Task.sleep(for: delay)
                    return value
                case .none: throw NoReply(request: name)
                }
            }
        }
        registry.onAnyAction { connection, action, args, kwargs in
            guard let drone = drone(connection) else { return }
            let time = connection.clockTime
            let effects = drone.withModel { $0.handleAction(action, kwargs: kwargs, at: time) }
            drone.perform(effects, on: connection)
            report?(drone, action, args, kwargs)
        }
        registry.onFileReceived { connection, path, _ in
            guard let drone = drone(connection) else { return }
            drone.fileReceived(at: path)
            fileReport?(drone, path)
        }
    }

    /// Puts `drone` on `connection`: the frames that arrive on it are the drone's.
    /// - Parameters:
    ///   - drone: the drone.
    ///   - connection: its client's connection (`MessagingClient.connection`).
    public func add(_ drone: VirtualDrone, on connection: Connection) {
        drones.withLockedValue { all in
            if all.count <= connection.number { all.append(contentsOf: repeatElement(nil, count: connection.number + 1 - all.count)) }
            all[connection.number] = drone
        }
    }

    /// The drone on `connection`.
    /// - Parameter connection: a connection given to ``add(_:on:)``.
    /// - Returns: the drone, or `nil` for another connection.
    public func drone(on connection: Connection) -> VirtualDrone? {
        drones.withLockedValue { all in connection.number < all.count ? all[connection.number] : nil }
    }

    /// Pushes every drone's telemetry record from one task, `TELEMETRY_frequency` times a second
    /// by default (DRONE.md §1.2), until the calling task is cancelled or every connection closes.
    /// - Parameters:
    ///   - connections: the drones' connections (each given to ``add(_:on:)``).
    ///   - period: the time between two records of a drone (default: from the first drone's `TELEMETRY_frequency`).
    public func pushTelemetry(_ connections: [Connection], every period: Duration? = nil) async {
        guard let first = connections.first.flatMap(drone(on:)) else { return }
        let hertz = first.withModel { $0.config.double("TELEMETRY_frequency") }
        guard period != nil || hertz > 0 else { return }
        let publisher = period.map(TelemetryPublisher.init(every:)) ?? TelemetryPublisher(hertz: hertz)
        let drones = connections.map(drone(on:))
        await publisher.run(connections) { index in
            drones[index]?.telemetry(at: connections[index].clockTime) ?? .null
        }
    }
}
