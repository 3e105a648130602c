import CleverBridge
import CleverMessaging
import CleverNATS
import Foundation

/// The served half of the fleet contract (`FleetSubjects`) for one
/// `GroundStation`, as small as the demo needs: `clever.discover`, `status`,
/// `time`, `start`, `…request.*` and `…action.*`. It publishes no events.
/// Each message is handled in a child task of ``serve()``.
struct FleetDemoStation: Sendable {
    let name: String
    let station: GroundStation
    let client: NATSClient
    let subscriptions: [NATSSubscription]

    /// Subscribes to the station's subjects (the server has them when this returns).
    init(name: String, station: GroundStation, client: NATSClient) async throws {
        self.name = name
        self.station = station
        self.client = client
        subscriptions = [
            try await client.subscribe(to: FleetSubjects.discover),
            try await client.subscribe(to: "\(FleetSubjects.root).\(name).>"),
        ]
        try await client.flush()
    }

    /// Serves until cancelled or the client closes.
    func serve() async {
        await withTaskGroup(of: Void.self) { group in
            for subscription in subscriptions {
                group.addTask {
                    await withTaskGroup(of: Void.self) { handlers in
                        do {
                            for try await message in subscription { handlers.addTask { await handle(message) } }
                        } catch {}
                    }
                }
            }
        }
    }

    private var status: FleetStationStatus {
        let drones = station.drones.sorted { NaturalOrder.areInIncreasingOrder($0.id, $1.id) }.map { drone in
            FleetStationStatus.Drone(
                id: drone.id, connected: drone.isConnected, address: drone.isConnected ? drone.address : nil,
                clockOffsetMilliseconds: station.clockOffset(for: drone.id).map { Console.milliseconds($0.offset) })
        }
        return FleetStationStatus(station: name, drones: drones, time: Date().timeIntervalSince1970)
    }

    private func handle(_ message: NATSMessage) async {
        let tokens = message.subject.split(separator: ".").map(String.init)
        let body = Data(message.string.utf8)
        let reply: (any Encodable)?
        if message.subject == FleetSubjects.discover || message.subject == FleetSubjects.status(station: name) {
            reply = status
        } else if message.subject == FleetSubjects.time(station: name) {
            reply = FleetTime(time: Date().timeIntervalSince1970)
        } else if message.subject == FleetSubjects.start(station: name) {
            reply = await start(body)
        } else if tokens.count == 5, tokens[3] == "action", let arguments = try? JSONDecoder().decode(FleetArguments.self, from: body) {
            let ids = tokens[2] == FleetSubjects.allDrones ? station.drones.map(\.id) : [tokens[2]]
            _ = try? await station.send(tokens[4], args: arguments.args, kwargs: Self.kwargs(arguments.kwargs), to: ids)
            reply = nil
        } else if tokens.count == 5, tokens[3] == "request" {
            reply = await request(tokens[4], of: tokens[2], body)
        } else {
            reply = nil
        }
        guard let reply, let replyTo = message.replyTo else { return }
        // A drone's value may hold NaN or an infinity (a reference drone's yaw
        // before its first fix), which strict JSON cannot: they go as strings.
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let data: Data
        do {
            data = try encoder.encode(reply)
        } catch {
            let failure = FleetReply(value: nil, error: FleetError(code: "encoding", message: "\(error)"))
            guard let encoded = try? encoder.encode(failure) else { return }
            data = encoded
        }
        try? await client.publish(String(decoding: data, as: UTF8.self), to: replyTo)
    }

    private func request(_ name: String, of drone: String, _ body: Data) async -> FleetReply {
        guard station.drones.contains(where: { $0.id == drone }) else {
            return FleetReply(value: nil, error: FleetError(code: "unknown_drone", message: "\(self.name) knows no drone \(drone)"))
        }
        let arguments = (try? JSONDecoder().decode(FleetArguments.self, from: body)) ?? FleetArguments()
        let results = await station.requestAll(name, args: arguments.args, kwargs: Self.kwargs(arguments.kwargs), from: [drone], timeout: .seconds(5), waitingUpTo: nil)
        switch results.first?.result {
        case .success(let value): return FleetReply(value: value, error: nil)
        case .failure(let error): return FleetReply(value: nil, error: FleetError(code: error.code.rawValue, message: "\(error)"))
        case nil: return FleetReply(value: nil, error: FleetError(code: "unknown_drone", message: drone))
        }
    }

    private func start(_ body: Data) async -> FleetStartReply {
        guard let request = try? JSONDecoder().decode(FleetStartRequest.self, from: body) else {
            return FleetStartReply(station: name, succeeded: [], failed: [:])
        }
        let results = await station.start(at: request.time, action: request.action, kwargs: Self.kwargs(request.kwargs), targets: request.drones)
        var succeeded: [String] = []
        var failed: [String: FleetError] = [:]
        for element in results {
            switch element.result {
            case .success: succeeded.append(element.droneID)
            case .failure(let error): failed[element.droneID] = FleetError(code: error.code.rawValue, message: "\(error)")
            }
        }
        return FleetStartReply(station: name, succeeded: succeeded.sorted(by: NaturalOrder.areInIncreasingOrder), failed: failed)
    }
}

extension FleetDemoStation {
    /// The contract's keyword arguments (a dictionary) as the station takes them, in key order.
    static func kwargs(_ dictionary: [String: JSONValue]) -> JSONObject {
        JSONObject(uniqueKeysWithValues: dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }
}
