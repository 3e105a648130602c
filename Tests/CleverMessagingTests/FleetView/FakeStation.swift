import CleverBridge
import CleverMessaging
import CleverNATS
import CleverTestSupport
import Foundation

/// A ground station's side of the fleet contract, faked on a NATS client:
/// it answers `clever.discover`, `status`, `time` (its clock `skew` seconds
/// off the test's), `start` and `…request.*`, and records `…action.*`.
final class FakeStation: Sendable {
    let name: String
    let drones: [String]
    let skew: Double
    let client: NATSClient
    /// Drone requests are held unanswered until this many are in flight at once
    /// (0: none held), so that the view's requests overlap up to its bound.
    let holdRequestsUntilInFlight: Int
    private let subscriptions: [NATSSubscription]
    private let state = Watched(Recorded())

    struct Recorded: Sendable {
        var actions: [(drone: String, name: String, arguments: FleetArguments)] = []
        var starts: [FleetStartRequest] = []
        var inFlight = 0
        var mostInFlight = 0
        /// Whether ``holdRequestsUntilInFlight`` requests were in flight at once (held ones go on from then).
        var released = false
    }

    /// Connects and subscribes (flushed: the server has the subscriptions when this returns).
    init(name: String, drones: [String], skew: Double = 0, url: String, holdRequestsUntilInFlight: Int = 0) async throws {
        self.name = name
        self.drones = drones
        self.skew = skew
        self.holdRequestsUntilInFlight = holdRequestsUntilInFlight
        var configuration = try NATSConfiguration(urls: [url])
        configuration.reconnectDelay = .milliseconds(50)
        configuration.maximumReconnectDelay = .milliseconds(200)
        client = NATSClient(configuration: configuration)
        try await client.connect()
        subscriptions = [
            try await client.subscribe(to: FleetSubjects.discover),
            try await client.subscribe(to: "\(FleetSubjects.root).\(name).>"),
        ]
        try await client.flush()
    }

    var actions: [(drone: String, name: String, arguments: FleetArguments)] { state.value.actions }
    var starts: [FleetStartRequest] { state.value.starts }
    var mostInFlight: Int { state.value.mostInFlight }

    /// Waits until `condition` holds, woken by every action, start and request the station records.
    /// - Returns: whether it held within `timeout`.
    @discardableResult
    func wait(timeout: Duration = .seconds(20), until condition: @escaping @Sendable (FakeStation) -> Bool) async -> Bool {
        await state.wait(timeout: timeout) { [self] _ in condition(self) }
    }

    /// The drones an action reached: `all` is every drone.
    var actionsByDrone: [String: [String]] {
        var reached: [String: [String]] = [:]
        for action in actions {
            for drone in action.drone == FleetSubjects.allDrones ? drones : [action.drone] { reached[drone, default: []].append(action.name) }
        }
        return reached
    }

    /// Serves until cancelled; each request is answered in a child task.
    func serve() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for subscription in subscriptions {
                group.addTask {
                    try await withThrowingTaskGroup(of: Void.self) { handlers in
                        for try await message in subscription {
                            handlers.addTask { try await self.handle(message) }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Publishes a drone event as a bridge does.
    func publish(_ kind: FleetEventKind, drone: String, _ payload: some Encodable) async throws {
        try await client.publish(String(decoding: try JSONEncoder().encode(payload), as: UTF8.self),
                                 to: FleetSubjects.event(kind, station: name, drone: drone))
        try await client.flush()
    }

    var status: FleetStationStatus {
        FleetStationStatus(
            station: name,
            drones: drones.map { .init(id: $0, connected: true, address: "127.0.0.1:1", clockOffsetMilliseconds: 0.5) },
            time: Date().timeIntervalSince1970 + skew)
    }

    private func handle(_ message: NATSMessage) async throws {
        let tokens = message.subject.split(separator: ".").map(String.init)
        let body = Data(message.string.utf8)
        var reply: (any Encodable)?
        if message.subject == FleetSubjects.discover || message.subject == FleetSubjects.status(station: name) {
            reply = status
        } else if message.subject == FleetSubjects.time(station: name) {
            reply = FleetTime(time: Date().timeIntervalSince1970 + skew)
        } else if message.subject == FleetSubjects.start(station: name) {
            let request = try JSONDecoder().decode(FleetStartRequest.self, from: body)
            state.update { $0.starts.append(request) }
            let meant = request.drones ?? drones
            var failed: [String: FleetError] = [:]
            for drone in meant where !drones.contains(drone) {
                failed[drone] = FleetError(code: "unknown_drone", message: "no drone \(drone)")
            }
            reply = FleetStartReply(station: name, succeeded: meant.filter(drones.contains).sorted(), failed: failed)
        } else if tokens.count == 5, tokens[3] == "action" {
            let arguments = try JSONDecoder().decode(FleetArguments.self, from: body)
            state.update { $0.actions.append((tokens[2], tokens[4], arguments)) }
        } else if tokens.count == 5, tokens[3] == "request" {
            let held = state.update { [hold = holdRequestsUntilInFlight] in
                $0.inFlight += 1
                $0.mostInFlight = max($0.mostInFlight, $0.inFlight)
                if $0.inFlight >= hold { $0.released = true }
                return !$0.released
            }
            // Waits for the others, not for time: released once enough are in flight at once.
            if held { await state.wait(timeout: .seconds(30)) { $0.released } }
            state.update { $0.inFlight -= 1 }
            let (drone, name) = (tokens[2], tokens[4])
            if !drones.contains(drone) {
                reply = FleetReply(value: nil, error: FleetError(code: "unknown_drone", message: "no drone \(drone)"))
            } else if name == "telemetry" {
                reply = FleetReply(value: ["id": .string(drone), "mode": "OFFBOARD"], error: nil)
            } else if name == "silence" {
                return
            } else {
                reply = FleetReply(value: nil, error: FleetError(code: "remote", message: "unknown_request: \(name)"))
            }
        }
        if let reply, let replyTo = message.replyTo {
            try await client.publish(String(decoding: try JSONEncoder().encode(reply), as: UTF8.self), to: replyTo)
        }
    }
}

/// Runs `stations` while `body` runs, then stops them.
func withFakeStations<T: Sendable>(_ stations: [FakeStation], _ body: @Sendable () async throws -> T) async throws -> T {
    let result = try await withThrowingTaskGroup(of: T?.self) { group in
        for station in stations { group.addTask { try await station.serve(); return nil } }
        let value = try await body()
        group.cancelAll()
        return value
    }
    for station in stations { await station.client.close() }
    return result
}
