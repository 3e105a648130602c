import CleverMessaging
import CleverNATS
import NIOCore

extension StationBridge {
    // MARK: - Published subjects

    /// `joined` and `left` as the station sees drones come and go.
    func publishDroneEvents(_ events: AsyncStream<GroundStation.Event>) async {
        for await event in events {
            switch event {
            case .firstConnected(let drone), .reconnected(let drone):
                await publishDrone(.joined, drone.id, address: drone.address)
            case .disconnected(let drone):
                await publishDrone(.left, drone.id, address: nil)
            case .duplicateRefused:
                continue
            }
        }
    }

    func publishDrone(_ kind: FleetEventKind, _ drone: String, address: String?) async {
        let event = FleetDroneEvent(station: name, drone: drone, address: address, time: WallClock.now)
        state.withLockedValue { $0.statistics.droneEvents += 1 }
        await publish(event, to: FleetSubjects.event(kind, station: name, drone: drone))
    }

    /// `joined` for every connected drone: after the bridge starts and after each NATS reconnect,
    /// so that a console that missed events rebuilds its view.
    func announceConnectedDrones() async {
        for drone in station.drones where drone.isConnected {
            await publishDrone(.joined, drone.id, address: drone.address)
        }
    }

    /// Keeps each drone's latest telemetry record until the next publish.
    func collectTelemetry(_ updates: AsyncStream<TelemetrySample>) async {
        for await sample in updates {
            state.withLockedValue { $0.telemetry.offer(sample.record, of: sample.droneID) }
        }
    }

    /// Once per ``Configuration/telemetryInterval``: the waiting telemetry records and the clock offsets measured since.
    func publishPeriodically() async {
        while true {
            do {
                try await Task.sleep(for: configuration.telemetryInterval)
            } catch {
                return
            }
            await publishPending()
        }
    }

    /// Publishes the waiting telemetry records (one per drone) and the clock offsets measured since the last call.
    func publishPending() async {
        let records = state.withLockedValue { $0.telemetry.drain() }
        for (drone, record) in records {
            await publish(payload: BridgeJSON.encode(value: record), to: FleetSubjects.event(.telemetry, station: name, drone: drone))
        }
        let offsets = station.clockOffsets
        let changed = state.withLockedValue { s -> [(String, ClockOffset)] in
            s.statistics.telemetryPublished += records.count
            var changed: [(String, ClockOffset)] = []
            for (drone, offset) in offsets where s.publishedClocks[drone] != offset.measuredAt {
                s.publishedClocks[drone] = offset.measuredAt
                changed.append((drone, offset))
            }
            return changed
        }
        for (drone, offset) in changed {
            let event = FleetClockEvent(
                drone: drone, offsetMilliseconds: offset.offset.inMilliseconds,
                uncertaintyMilliseconds: offset.uncertainty.inMilliseconds
            )
            await publish(event, to: FleetSubjects.event(.clock, station: name, drone: drone))
        }
    }

    /// Follows the NATS connection: logs and counts each drop and reconnect, and
    /// announces the connected drones again after a reconnect. Returns when the client closes.
    func followConnection() async {
        let clock = ContinuousClock()
        for await event in client.events {
            // Counted before `onNATSEvent` hears of it: its listener sees the statistics with the event in them.
            let gap = state.withLockedValue { s -> Duration in
                switch event {
                case .disconnected:
                    s.statistics.disconnects += 1
                    s.disconnectedAt = clock.now
                    return .zero
                case .reconnected:
                    s.statistics.reconnects += 1
                    let gap = s.disconnectedAt.map { clock.now - $0 } ?? .zero
                    s.statistics.longestGap = max(s.statistics.longestGap, gap)
                    s.disconnectedAt = nil
                    return gap
                case .connected, .serverError, .slowConsumer, .closed:
                    return .zero
                }
            }
            onNATSEvent?(event)
            switch event {
            case .disconnected(let error):
                logger.warning("NATS connection lost; the station keeps serving its drones", metadata: [
                    "station": "\(name)", "error": "\(error.map { "\($0)" } ?? "none")",
                ])
            case .reconnected(let server):
                logger.warning("NATS connection back; announcing the station's drones again", metadata: [
                    "station": "\(name)", "server": "\(server)", "gap_ms": "\(Int(gap.inMilliseconds))",
                ])
                await announceConnectedDrones()
            case .closed(let error):
                logger.debug("NATS client closed", metadata: ["station": "\(name)", "error": "\(error.map { "\($0)" } ?? "none")"])
                return
            case .connected, .serverError, .slowConsumer:
                logger.debug("NATS event", metadata: ["station": "\(name)", "event": "\(event)"])
            }
        }
    }

    // MARK: - File transfers

    /// Pushes a file to drones through the station
    /// (`GroundStation.pushFile(_:to:drones:maximumConcurrent:acknowledgementTimeout:progress:)`)
    /// and publishes each drone's result (`file`).
    /// - Parameters:
    ///   - localPath: the file to send.
    ///   - remotePath: where each drone writes it.
    ///   - ids: the drones; `nil`: every drone the station knows.
    ///   - maximumConcurrent: the most pushes in flight at once.
    ///   - progress: called with the progress over the whole fleet.
    /// - Returns: one result per drone.
    /// - Throws: `MessagingError` when the local file cannot be read (then nothing was sent or published).
    public func pushFile(
        _ localPath: String, to remotePath: String, drones ids: [String]? = nil, maximumConcurrent: Int = 32,
        progress: FilePushProgressHandler? = nil
    ) async throws(MessagingError) -> DroneResults<FileTransferResult> {
        let results = try await station.pushFile(
            localPath, to: remotePath, drones: ids, maximumConcurrent: maximumConcurrent, progress: progress)
        await publishFileResults(results, path: remotePath)
        return results
    }

    /// Publishes the results of a file push made on the station (`file`, one per drone).
    /// - Parameters:
    ///   - results: the push's results.
    ///   - path: the path on the drones.
    public func publishFileResults(_ results: DroneResults<FileTransferResult>, path: String) async {
        for element in results {
            let error: FleetError? =
                switch element.result {
                case .success: nil
                case .failure(let error): element.skipReason == .unknown ? .unknownDrone(element.droneID) : FleetError(error)
                }
            let event = FleetFileEvent(drone: element.droneID, path: path, succeeded: error == nil, error: error)
            await publish(event, to: FleetSubjects.event(.file, station: name, drone: element.droneID))
        }
    }
}
