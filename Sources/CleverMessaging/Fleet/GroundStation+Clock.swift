extension GroundStation {
    // MARK: - Clock offsets

    /// The latest clock offset of every drone measured, by drone id (a drone
    /// that disconnected keeps its last one). For the measuring schedule, see
    /// ``ClockConfiguration``.
    public var clockOffsets: [String: ClockOffset] { clocks.offsets }

    /// The latest clock offset of one drone.
    /// - Parameter droneID: the drone.
    /// - Returns: its offset, or `nil` when it was never measured.
    public func clockOffset(for droneID: String) -> ClockOffset? {
        clocks.offset(of: droneID)
    }

    /// Waits until the station holds a clock offset for a drone: measured on
    /// connect or on the interval (``ClockConfiguration``), or on demand.
    ///
    /// Before a timed start, this tells that the station knows each drone's clock.
    /// - Parameters:
    ///   - droneID: the drone.
    ///   - timeout: how long to wait.
    /// - Returns: its latest offset.
    /// - Throws: ``MessagingError/waitTimedOut(what:wanted:present:timeout:)`` when
    ///   none was measured within `timeout`.
    @discardableResult
    public func waitForClockOffset(of droneID: String, timeout: Duration) async throws(MessagingError) -> ClockOffset {
        let clocks = self.clocks
        _ = await clocks.recorded.wait(timeout: timeout) { clocks.offset(of: droneID) != nil }
        guard let offset = clocks.offset(of: droneID) else {
            throw .waitTimedOut(what: "clock offset measured for \(droneID)", wanted: 1, present: 0, timeout: timeout)
        }
        return offset
    }

    /// A stream of threshold crossings from now on (each call gets its own):
    /// a drone's offset went beyond ``ClockConfiguration/threshold``, or came back.
    /// - Returns: the events; the stream ends when the station stops.
    public func clockEvents() -> AsyncStream<ClockEvent> {
        clocks.events()
    }

    /// Measures one drone's clock now (``ClockConfiguration/samples``
    /// exchanges, the best kept) and keeps the result.
    /// - Parameter droneID: the drone.
    /// - Returns: its offset.
    /// - Throws: ``MessagingError/notConnected`` when it has no link; the last
    ///   exchange's error when too many failed.
    public func measureClock(of droneID: String) async throws(MessagingError) -> ClockOffset {
        guard let connection = connection(for: droneID) else { throw .notConnected }
        let offset = try await Self.measureClock(connection, configuration: clocks.configuration)
        clocks.record(offset, of: droneID)
        return offset
    }

    /// Measures the clocks of many drones now, at most
    /// ``ClockConfiguration/concurrency`` at once, and keeps the results.
    /// - Parameter droneIDs: the drones; `nil`: every drone the station knows.
    /// - Returns: one result per drone, in the order of `droneIDs` (sorted by id when `nil`).
    public func measureClocks(of droneIDs: [String]?) async -> DroneResults<ClockOffset> {
        let listed = targets(droneIDs)
        let targets = droneIDs == nil ? listed.sorted { $0.id < $1.id } : listed
        let elements = await boundedMap(targets, limit: clocks.configuration.concurrency) { [self] target in
            guard target.connection != nil else {
                return DroneResults<ClockOffset>.Element(droneID: target.id, result: .failure(.notConnected), skipReason: target.known ? .disconnected : .unknown)
            }
            do throws(MessagingError) {
                return .init(droneID: target.id, result: .success(try await self.measureClock(of: target.id)))
            } catch {
                return .init(droneID: target.id, result: .failure(error))
            }
        }
        return DroneResults(elements)
    }

    /// Runs `body` beside the loop that measures the drones' clocks when due
    /// (one loop for the fleet: no task or timer per drone); the loop stops when `body` returns.
    func withClockLoop<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await self.runClockLoop() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Measures the drones due, at most ``ClockConfiguration/concurrency`` at
    /// once, then sleeps until the next is due or a link opens; until cancelled.
    private func runClockLoop() async {
        let clocks = self.clocks
        let limit = clocks.configuration.concurrency
        while !Task.isCancelled {
            let due = clocks.takeDue(limit: limit * 4)
            if due.isEmpty {
                let wait = clocks.nextDue.map { ContinuousClock.now.duration(to: $0) } ?? .seconds(3600)
                _ = await clocks.waiters.wait(timeout: max(wait, .milliseconds(1))) { clocks.isDue }
                continue
            }
            _ = await boundedMap(due, limit: limit) { [self] id in
                var offset: ClockOffset?
                if let connection = self.connection(for: id) {
                    offset = try? await Self.measureClock(connection, configuration: clocks.configuration)
                }
                clocks.finished(id, offset: offset)
                if let offset {
                    self.logger.trace("clock measured", metadata: ["id": "\(id)", "offset_ms": "\(offset.offset.inMilliseconds)"])
                }
            }
        }
    }

    /// Measures one connection's clock: `x-clever-time` exchanges with a peer
    /// of this library, `time` requests with a reference peer.
    static func measureClock(_ connection: Connection, configuration: ClockConfiguration) async throws(MessagingError) -> ClockOffset {
        let exchange = connection.peerSpeaksExtensions
        var sampler = ClockSampler(wanted: configuration.samples)
        var lastError = MessagingError.decoding("no clock sample")
        while true {
            switch sampler.next {
            case .done(let best):
                return ClockOffset(best, method: exchange ? .exchange : .timeRequest)
            case .failed:
                throw lastError
            case .sample:
                do {
                    let (sent, value, received) = try await connection.clockReading(exchange ? ExtensionHeader.time : "time", timeout: configuration.sampleTimeout)
                    if let sample = clockSample(value, sent: sent, received: received) {
                        sampler.record(sample)
                    } else {
                        lastError = .decoding("the clock answer \(value) is not a time")
                        sampler.failed()
                    }
                } catch {
                    switch error {
                    case .timedOut, .remote, .decoding:
                        lastError = error
                        sampler.failed()
                    default:
                        throw error  // the link is gone, or the call cancelled
                    }
                }
            }
        }
    }

    /// A sample from a clock answer: `[t2, t3]` (`x-clever-time`) or one number (`time`).
    static func clockSample(_ value: JSONValue, sent: Double, received: Double) -> ClockSample? {
        switch value {
        case .array(let times) where times.count == 2:
            guard let t2 = times[0].doubleValue, let t3 = times[1].doubleValue, WallClock.isPlausible(t2), WallClock.isPlausible(t3) else { return nil }
            return ClockSample(sent: sent, droneReceived: t2, droneSent: t3, received: received)
        default:
            guard let time = value.doubleValue, WallClock.isPlausible(time) else { return nil }
            return ClockSample(sent: sent, droneTime: time, received: received)
        }
    }
}
