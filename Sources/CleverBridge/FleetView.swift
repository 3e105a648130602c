import CleverMessaging
import CleverNATS
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A console's view of a fleet spread over several ground stations, through
/// NATS: the stations found with `clever.discover`, their drones as
/// `station/drone`, actions and requests to any of them, the stations' clock
/// offsets, a timed start across stations, and (while ``run()`` runs) the
/// drones' events with a table of their latest telemetry.
///
/// It speaks only the subjects of `FleetSubjects`; it never talks to a drone.
/// Every failure is a ``FleetError`` with a stable code.
public final class FleetView: Sendable {
    /// How the view waits and how much it does at once.
    public struct Configuration: Sendable, Hashable {
        /// How long `clever.discover` collects station replies (default 250 ms).
        public var discoveryWindow: Duration = .milliseconds(250)
        /// When set, discovery returns as soon as this many stations answered,
        /// before the window ends (default `nil`: always the whole window).
        public var expectedStations: Int?
        /// How long a request waits for its reply (default 5 s).
        public var requestTimeout: Duration = .seconds(5)
        /// The most drone requests in flight at once (default 64).
        public var maximumConcurrentRequests = 64
        /// How many samples a station's clock measurement takes (default 8).
        public var clockSamples = 8

        /// The defaults.
        public init() {}
    }

    /// The NATS client the view speaks through (connected by the caller).
    public let client: NATSClient
    /// How it waits and how much it does at once.
    public let configuration: Configuration

    let logger: Logger
    let wallClock: @Sendable () -> Double
    /// The instant now, for how long the NATS connection was down (a test's own clock in tests).
    let uptime: @Sendable () -> ContinuousClock.Instant
    let state = NIOLockedValueBox(State())
    /// ``run()`` has its subscription, and the server has it.
    let watching = Readiness()

    struct State {
        var table = FleetTelemetryTable()
        var listeners: [UInt64: AsyncStream<FleetViewEvent>.Continuation] = [:]
        var nextListener: UInt64 = 0
        var offsets: [String: FleetClockOffset] = [:]
    }

    /// A view over `client`.
    /// - Parameters:
    ///   - client: a NATS client; connect it before the first call.
    ///   - configuration: windows, timeouts and concurrency.
    ///   - logger: where it logs (debug and trace only).
    public convenience init(client: NATSClient, configuration: Configuration = Configuration(), logger: Logger = Logger(label: "clever.fleet")) {
        self.init(client: client, configuration: configuration, logger: logger) { Date().timeIntervalSince1970 }
    }

    init(
        client: NATSClient, configuration: Configuration, logger: Logger,
        uptime: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        wallClock: @escaping @Sendable () -> Double
    ) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.uptime = uptime
        self.wallClock = wallClock
    }

    /// The latest of each drone, from the events seen while ``run()`` runs and the stations' statuses.
    public var table: FleetTelemetryTable { state.withLockedValue { $0.table } }

    /// The stations' clock offsets measured last, by station.
    public var clockOffsets: [String: FleetClockOffset] { state.withLockedValue { $0.offsets } }

    /// Asks every station for its status (`clever.discover`) and collects the
    /// replies for `window`.
    /// - Parameter window: how long to collect replies (default: the configuration's).
    /// - Returns: one status per station, by station name (natural order).
    /// - Throws: ``FleetError`` (`nats`).
    public func discover(window: Duration? = nil) async throws(FleetError) -> [FleetStationStatus] {
        let inbox = "_INBOX.fleet.\(UInt64.random(in: 0...UInt64.max))"
        let subscription: NATSSubscription
        do {
            subscription = try await client.subscribe(to: inbox)
            try await client.publish(ByteBuffer(), to: FleetSubjects.discover, replyTo: inbox)
        } catch {
            throw .nats(error)
        }
        let window = window ?? configuration.discoveryWindow
        let expected = configuration.expectedStations
        let replies = await withTaskGroup(of: [FleetStationStatus]?.self) { group in
            group.addTask {
                var replies: [FleetStationStatus] = []
                var stations = Set<String>()
                do {
                    for try await message in subscription {
                        if let status = try? BridgeJSON.decode(FleetStationStatus.self, from: message.payload) {
                            replies.append(status)
                            stations.insert(status.station)
                            if let expected, stations.count >= expected { break }
                        }
                    }
                } catch {}
                return replies
            }
            group.addTask {
                try? await Task.sleep(for: window)
                return nil
            }
            var replies: [FleetStationStatus] = []
            // The window ends (the reader is cancelled and returns what it has), or the reader has every expected station.
            while let result = await group.next() {
                if let result { replies = result }
                group.cancelAll()
            }
            return replies
        }
        await subscription.unsubscribe()
        var byStation: [String: FleetStationStatus] = [:]
        for status in replies { byStation[status.station] = status }
        let statuses = byStation.values.sorted { FleetNaturalOrder.less($0.station, $1.station) }
        state.withLockedValue { state in
            for status in statuses { state.table.apply(status) }
        }
        logger.debug("discovered stations", metadata: ["stations": "\(statuses.map(\.station))"])
        return statuses
    }

    /// The drones of every station, as `station/drone`, sorted.
    /// - Returns: the drones the stations know, connected or not.
    /// - Throws: ``FleetError`` (`nats`).
    public func drones() async throws(FleetError) -> [FleetDroneID] {
        try await discover().flatMap { status in status.drones.map { FleetDroneID(station: status.station, drone: $0.id) } }.sorted()
    }

    /// The drones `target` names: single drones as given, whole stations as
    /// their status lists them (discovered first).
    /// - Parameter target: which drones.
    /// - Returns: the drones (sorted) and the whole stations meant.
    /// - Throws: ``FleetError`` (`unknown_station` for a whole station that did not answer, `nats`).
    public func resolve(_ target: FleetTarget) async throws(FleetError) -> (stations: [String], drones: [FleetDroneID]) {
        guard target.everyStation || !target.stations.isEmpty else { return ([], target.drones) }
        let statuses = try await discover()
        let known = Dictionary(statuses.map { ($0.station, $0) }, uniquingKeysWith: { _, last in last })
        let stations = target.everyStation ? statuses.map(\.station) : target.stations
        var drones = target.drones
        for station in stations {
            guard let status = known[station] else { throw .unknownStation(station) }
            drones += status.drones.map { FleetDroneID(station: station, drone: $0.id) }
        }
        return (stations, Array(Set(drones)).sorted())
    }

    /// Publishes the action `name` to the drones of `target`: one message per
    /// whole station (`clever.<station>.all.action.<name>`), one per single drone.
    ///
    /// Actions are fire-and-forget, as on a station; the NATS server has them when this returns.
    /// - Parameters:
    ///   - name: the action (one NATS token).
    ///   - arguments: its arguments.
    ///   - target: which drones.
    /// - Returns: the drones it was sent to, sorted.
    /// - Throws: ``FleetError`` (`invalid_target`, `unknown_station`, `nats`).
    @discardableResult
    public func send(_ name: String, arguments: FleetArguments = FleetArguments(), to target: FleetTarget) async throws(FleetError) -> [FleetDroneID] {
        guard FleetSubjects.token(name) else { throw .invalidTarget("not an action name: \(name)") }
        let (stations, drones) = try await resolve(target)
        let payload = try Self.encode(arguments)
        let whole = Set(stations)
        do {
            for station in stations {
                try await client.publish(payload, to: FleetSubjects.action(name, station: station, drone: FleetSubjects.allDrones))
            }
            for drone in drones where !whole.contains(drone.station) {
                try await client.publish(payload, to: FleetSubjects.action(name, station: drone.station, drone: drone.drone))
            }
            try await client.flush(timeout: configuration.requestTimeout)
        } catch {
            throw .nats(error)
        }
        return drones
    }

    /// Asks the drones of `target` for the value `name`, many at once (at most
    /// ``Configuration/maximumConcurrentRequests`` in flight).
    /// - Parameters:
    ///   - name: the value's name (one NATS token).
    ///   - arguments: its arguments.
    ///   - target: which drones.
    ///   - timeout: how long each reply may take (default: the configuration's).
    /// - Returns: one result per drone, sorted by drone: the value, or why there is none
    ///   (the station's error such as `unknown_drone`, or `timed_out`, `no_responders`, `decoding`).
    /// - Throws: ``FleetError`` when the drones could not be listed (`invalid_target`, `unknown_station`, `nats`).
    public func request(
        _ name: String, arguments: FleetArguments = FleetArguments(), from target: FleetTarget, timeout: Duration? = nil
    ) async throws(FleetError) -> [FleetDroneResult<JSONValue>] {
        guard FleetSubjects.token(name) else { throw .invalidTarget("not a request name: \(name)") }
        let (_, drones) = try await resolve(target)
        let payload = try Self.encode(arguments)
        let timeout = timeout ?? configuration.requestTimeout
        let limit = max(1, configuration.maximumConcurrentRequests)
        return await withTaskGroup(of: FleetDroneResult<JSONValue>.self) { group in
            var pending = drones.makeIterator()
            func start(_ drone: FleetDroneID) {
                group.addTask {
                    let subject = FleetSubjects.request(name, station: drone.station, drone: drone.drone)
                    do throws(FleetError) {
                        let reply: FleetReply = try await self.call(subject, payload: payload, timeout: timeout)
                        if let error = reply.error { return FleetDroneResult(drone: drone, result: .failure(error)) }
                        return FleetDroneResult(drone: drone, result: .success(reply.value ?? .null))
                    } catch {
                        return FleetDroneResult(drone: drone, result: .failure(error))
                    }
                }
            }
            for _ in 0..<limit {
                guard let drone = pending.next() else { break }
                start(drone)
            }
            var results: [FleetDroneResult<JSONValue>] = []
            results.reserveCapacity(drones.count)
            while let result = await group.next() {
                results.append(result)
                if let drone = pending.next() { start(drone) }
            }
            return results.sorted { $0.drone < $1.drone }
        }
    }

    /// Sends `payload` to `subject` and decodes the reply.
    func call<Reply: Decodable>(_ subject: String, payload: ByteBuffer = ByteBuffer(), timeout: Duration) async throws(FleetError) -> Reply {
        let message: NATSMessage
        do {
            message = try await client.request(payload, to: subject, timeout: timeout)
        } catch let error as NATSError {
            switch error {
            case .timedOut: throw .timedOut(subject, after: timeout)
            case .noResponders: throw .noResponders(subject)
            default: throw .nats(error)
            }
        } catch {
            throw .nats(error)
        }
        do {
            return try BridgeJSON.decode(Reply.self, from: message.payload)
        } catch {
            throw .decoding(subject, "\(error)")
        }
    }

    /// The contract's JSON for `value` (the library's encoder, as the stations' bridges use).
    static func encode(_ value: some Encodable) throws(FleetError) -> ByteBuffer {
        do {
            return try BridgeJSON.encode(value)
        } catch {
            throw FleetError(code: "encoding", message: "\(error)")
        }
    }
}

/// One drone's outcome of a fleet call: its value, or why there is none.
public struct FleetDroneResult<Value: Sendable>: Sendable {
    /// The drone.
    public var drone: FleetDroneID
    /// The value, or the typed error.
    public var result: Result<Value, FleetError>

    /// Creates the outcome.
    /// - Parameters:
    ///   - drone: the drone.
    ///   - result: its value or error.
    public init(drone: FleetDroneID, result: Result<Value, FleetError>) {
        self.drone = drone
        self.result = result
    }
}
