import CleverMessaging
import CleverNATS
import NIOCore

extension StationBridge {
    // MARK: - Served subjects

    /// The drone token and the name of `clever.<station>.<drone>.<action|request>.<name>`.
    static func droneAndName(of subject: String) -> (drone: String, name: String)? {
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        guard tokens.count == 5 else { return nil }
        return (String(tokens[2]), String(tokens[4]))
    }

    /// Actions, one after the other (two actions to one drone keep their order).
    func serveActions(_ subscription: NATSSubscription) async {
        await serve(subscription) { message in await self.answerAction(message) }
    }

    /// Serves each message of `subscription` in a child task, at most
    /// ``Configuration/maximumConcurrentRequests`` at once.
    func serveConcurrently(
        _ subscription: NATSSubscription, _ body: @escaping @Sendable (NATSMessage) async -> Void
    ) async {
        let limit = configuration.maximumConcurrentRequests
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            await serve(subscription) { message in
                if running >= limit {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask { await body(message) }
            }
        }
    }

    /// Hands each message of `subscription` to `handle`, in order, until the
    /// subscription ends (the bridge stops, or the client closes). A subscription
    /// that fell behind (the NATS client's slow-consumer limit) is made again:
    /// the messages dropped meanwhile are lost, and their requesters time out.
    func serve(_ subscription: NATSSubscription, _ handle: (NATSMessage) async -> Void) async {
        var subscription = subscription
        while true {
            do {
                for try await message in subscription { await handle(message) }
                return
            } catch {
                logger.warning("subscription fell behind; subscribing again", metadata: [
                    "subject": "\(subscription.subject)", "error": "\(error)",
                ])
                guard !Task.isCancelled, let again = try? await client.subscribe(to: subscription.subject) else { return }
                subscription = again
            }
        }
    }

    /// `clever.<station>.<drone|all>.action.<name>`: sends the action; a reply subject gets who it was sent to.
    func answerAction(_ message: NATSMessage) async {
        state.withLockedValue { $0.statistics.actions += 1 }
        guard let (drone, action) = Self.droneAndName(of: message.subject) else { return }
        let reply: FleetStartReply
        do {
            let arguments = try BridgeJSON.decode(FleetArguments.self, from: message.payload, empty: FleetArguments())
            let kwargs = JSONObject(uniqueKeysWithValues: arguments.kwargs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            let targets: [String]? = drone == FleetSubjects.allDrones ? nil : [drone]
            let results = try await station.send(action, args: arguments.args, kwargs: kwargs, to: targets)
            reply = Self.reply(station: name, results)
        } catch let error as MessagingError {
            reply = FleetStartReply(station: name, succeeded: [], failed: [drone: FleetError(error)])
        } catch {
            reply = FleetStartReply(station: name, succeeded: [], failed: [drone: FleetError(code: "decoding", message: "\(error)")])
        }
        if let replyTo = message.replyTo { await publish(reply, to: replyTo) }
    }

    /// `clever.<station>.<drone>.request.<name>`: the drone's reply, or why there is none.
    func answerRequest(_ message: NATSMessage) async {
        guard let replyTo = message.replyTo else { return }
        var answer = FleetReply(value: nil, error: nil)
        if let (drone, name) = Self.droneAndName(of: message.subject) {
            do {
                let arguments = try BridgeJSON.decode(FleetArguments.self, from: message.payload, empty: FleetArguments())
                answer = await request(name, arguments: arguments, of: drone)
            } catch {
                answer.error = FleetError(code: "decoding", message: "the request's arguments: \(error)")
            }
        } else {
            answer.error = FleetError(code: "invalid_argument", message: "not a request subject: \(message.subject)")
        }
        state.withLockedValue { $0.statistics.requests += 1 }
        await publish(answer, to: replyTo)
    }

    /// Asks one drone.
    func request(_ name: String, arguments: FleetArguments, of drone: String) async -> FleetReply {
        guard let connection = station.connection(for: drone) else {
            let known = station.drones.contains { $0.id == drone }
            return FleetReply(value: nil, error: known ? FleetError(MessagingError.notConnected) : .unknownDrone(drone))
        }
        let kwargs = JSONObject(uniqueKeysWithValues: arguments.kwargs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        do {
            let value = try await connection.request(name, args: arguments.args, kwargs: kwargs, timeout: configuration.requestTimeout)
            return FleetReply(value: value, error: nil)
        } catch {
            return FleetReply(value: nil, error: FleetError(error))
        }
    }

    /// `clever.<station>.status` and `clever.discover`.
    func answerStatus(_ message: NATSMessage) async {
        guard let replyTo = message.replyTo else { return }
        await publish(status(), to: replyTo)
    }

    /// The station's drones, sorted by id, with their clock offsets.
    public func status() -> FleetStationStatus {
        let offsets = station.clockOffsets
        let drones = station.drones.sorted { $0.id < $1.id }.map { drone in
            FleetStationStatus.Drone(
                id: drone.id, connected: drone.isConnected, address: drone.isConnected ? drone.address : nil,
                clockOffsetMilliseconds: offsets[drone.id].map { $0.offset.inMilliseconds }
            )
        }
        return FleetStationStatus(station: name, drones: drones, time: WallClock.now)
    }

    /// `clever.<station>.time`.
    func answerTime(_ message: NATSMessage) async {
        guard let replyTo = message.replyTo else { return }
        await publish(FleetTime(time: WallClock.now), to: replyTo)
    }

    /// `clever.<station>.start`: a timed start on the station's clock; answered once every drone acknowledged or failed.
    func answerStart(_ message: NATSMessage) async {
        let reply: FleetStartReply
        do {
            let request = try BridgeJSON.decode(FleetStartRequest.self, from: message.payload)
            guard request.time.isFinite, FleetSubjects.token(request.action) else {
                throw FleetError(code: "invalid_argument", message: "a start needs a finite time and an action name")
            }
            let kwargs = JSONObject(uniqueKeysWithValues: request.kwargs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            let results = await station.start(
                at: request.time, action: request.action, kwargs: kwargs, targets: request.drones,
                acknowledgementTimeout: configuration.acknowledgementTimeout
            )
            reply = Self.reply(station: name, results)
        } catch let error as FleetError {
            reply = FleetStartReply(station: name, succeeded: [], failed: ["*": error])
        } catch {
            reply = FleetStartReply(station: name, succeeded: [], failed: ["*": FleetError(code: "decoding", message: "\(error)")])
        }
        state.withLockedValue { $0.statistics.starts += 1 }
        if let replyTo = message.replyTo { await publish(reply, to: replyTo) }
    }

    /// Which drones succeeded and which failed, and why (an unknown drone: `unknown_drone`).
    static func reply<Value: Sendable>(station: String, _ results: DroneResults<Value>) -> FleetStartReply {
        var succeeded: [String] = []
        var failed: [String: FleetError] = [:]
        for element in results {
            switch element.result {
            case .success: succeeded.append(element.droneID)
            case .failure(let error):
                failed[element.droneID] = element.skipReason == .unknown ? .unknownDrone(element.droneID) : FleetError(error)
            }
        }
        return FleetStartReply(station: station, succeeded: succeeded.sorted(), failed: failed)
    }
}
