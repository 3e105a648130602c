import CleverMessaging

extension FleetView {
    /// Measures `station`'s clock over NATS request-reply (`clever.<station>.time`),
    /// NTP-style: ``Configuration/clockSamples`` samples one after the other, the
    /// one with the smallest round trip kept (see ``FleetClockEstimator``).
    /// - Parameters:
    ///   - station: the station.
    ///   - samples: how many samples (default: the configuration's).
    /// - Returns: the offset (station minus console) and its uncertainty.
    /// - Throws: ``FleetError`` when no sample could be taken (`timed_out`, `no_responders`, `decoding`, `nats`).
    public func measureClock(of station: String, samples: Int? = nil) async throws(FleetError) -> FleetClockOffset {
        guard FleetSubjects.token(station) else { throw .invalidTarget("not a station name: \(station)") }
        var estimator = FleetClockEstimator()
        var lastError: FleetError?
        let subject = FleetSubjects.time(station: station)
        for _ in 0..<max(1, samples ?? configuration.clockSamples) {
            let sent = wallClock()
            do throws(FleetError) {
                let reply: FleetTime = try await call(subject, timeout: configuration.requestTimeout)
                estimator.add(FleetClockSample(sent: sent, stationTime: reply.time, received: wallClock()))
            } catch {
                lastError = error
                // A station that is not there does not get better with more tries.
                if error.code == "no_responders" { break }
            }
        }
        guard let offset = estimator.estimate(station: station) else {
            throw lastError ?? .timedOut(subject, after: configuration.requestTimeout)
        }
        state.withLockedValue { $0.offsets[station] = offset }
        logger.debug("measured station clock", metadata: ["station": "\(station)", "offset": "\(offset.offset)"])
        return offset
    }

    /// Measures the clocks of `stations` (every station discovered when `nil`), all at once.
    /// - Parameter stations: the stations; `nil`: every station that answers `clever.discover`.
    /// - Returns: each station's offset or why it could not be measured, by station.
    /// - Throws: ``FleetError`` (`nats`) when discovery failed.
    public func measureClocks(of stations: [String]? = nil) async throws(FleetError) -> [String: Result<FleetClockOffset, FleetError>] {
        let names: [String]
        if let stations { names = stations } else { names = try await discover().map(\.station) }
        return await withTaskGroup(of: (String, Result<FleetClockOffset, FleetError>).self) { group in
            for station in Set(names) {
                group.addTask {
                    do throws(FleetError) {
                        return (station, .success(try await self.measureClock(of: station)))
                    } catch {
                        return (station, .failure(error))
                    }
                }
            }
            var results: [String: Result<FleetClockOffset, FleetError>] = [:]
            for await (station, result) in group { results[station] = result }
            return results
        }
    }

    /// A timed start across stations: for each station of `target`, its clock
    /// is measured, `consoleTime` converted to its clock, and
    /// `clever.<station>.start` asked to run `action` then on its drones
    /// (each station converts again with its own drones' offsets).
    /// - Parameters:
    ///   - consoleTime: the instant, Unix seconds on this console's clock.
    ///   - action: the action to run (usually `start`).
    ///   - kwargs: its keyword arguments.
    ///   - target: which drones (whole stations are sent no drone list).
    ///   - timeout: how long each station may take to answer (default: the configuration's).
    /// - Returns: one outcome per station, by station name.
    /// - Throws: ``FleetError`` when the drones could not be listed (`invalid_target`, `unknown_station`, `nats`).
    public func start(
        at consoleTime: Double, action: String, kwargs: [String: JSONValue] = [:], target: FleetTarget = .all,
        timeout: Duration? = nil
    ) async throws(FleetError) -> [FleetStationStart] {
        guard FleetSubjects.token(action) else { throw .invalidTarget("not an action name: \(action)") }
        let (stations, drones) = try await resolve(target)
        let whole = Set(stations)
        var plan: [String: [String]?] = [:]
        for station in stations { plan[station] = .some(nil) }
        for drone in drones where !whole.contains(drone.station) {
            plan[drone.station, default: .some([])]?.append(drone.drone)
        }
        let timeout = timeout ?? configuration.requestTimeout
        let outcomes = await withTaskGroup(of: FleetStationStart.self) { group in
            for (station, list) in plan {
                group.addTask {
                    var outcome = FleetStationStart(station: station)
                    do throws(FleetError) {
                        let clock = try await self.measureClock(of: station)
                        outcome.clock = clock
                        let time = clock.stationTime(forConsoleTime: consoleTime)
                        outcome.stationTime = time
                        let request = FleetStartRequest(time: time, action: action, kwargs: kwargs, drones: list)
                        let reply: FleetStartReply = try await self.call(
                            FleetSubjects.start(station: station), payload: try Self.encode(request), timeout: timeout)
                        outcome.result = .success(reply)
                    } catch {
                        outcome.result = .failure(error)
                    }
                    return outcome
                }
            }
            var outcomes: [FleetStationStart] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        return outcomes.sorted { FleetNaturalOrder.less($0.station, $1.station) }
    }
}

/// One station's part of a timed start across stations.
public struct FleetStationStart: Sendable, Hashable {
    /// The station.
    public var station: String
    /// Its clock as measured just before, when that worked.
    public var clock: FleetClockOffset?
    /// The start instant on the station's clock (Unix seconds), when its clock was measured.
    public var stationTime: Double?
    /// The station's reply, or why there is none.
    public var result: Result<FleetStartReply, FleetError>

    /// An outcome with no answer yet.
    /// - Parameter station: the station.
    public init(station: String) {
        self.station = station
        self.result = .failure(FleetError(code: "not_started", message: "not sent"))
    }
}
