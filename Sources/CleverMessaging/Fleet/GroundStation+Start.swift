import OrderedCollections

extension GroundStation {
    // MARK: - Timed start

    /// How long before the instant the station stops sending a timed start
    /// again: an acknowledgement later than this could not make a difference.
    static let startGiveUpMargin = 0.02

    /// Starts an action on many drones at one instant: each drone gets the
    /// instant on its own clock (corrected by its measured offset,
    /// ``clockOffset(for:)``; a drone not measured yet is measured first) and
    /// acknowledges; a drone that has not acknowledged (no answer in
    /// `acknowledgementTimeout`, a dropped link, no link) gets it again, until
    /// shortly before the instant.
    ///
    /// A drone of this library gets an `x-clever-start` request and calls its
    /// handler for `action` (the one registered when the request arrives) at
    /// that instant of its clock, not on arrival, once however often it was
    /// sent; closing its connection cancels it. A drone without a handler for
    /// `action` refuses it (an error reply: the result is that error, not sent again). A reference drone gets the action as the
    /// reference ground station sends `start` (DRONE.md 7.1): `arguments` with a
    /// member `"time"` added, the instant on its clock as a string holding a
    /// Python float (`{"time": "1700000002.1"}` for `start` without arguments);
    /// its confirmation is the written frame (``StartReceipt/Confirmation/sent``).
    ///
    /// The instant is a wall-clock time, Unix seconds as a `Double`, the way the
    /// protocol carries time (`time` answers, ``GroundStation/Drone/since``), precise to a
    /// microsecond: a monotonic instant (`ContinuousClock.Instant`) means nothing
    /// on another machine, and the library does not depend on Foundation's `Date`
    /// (`date.timeIntervalSince1970` gives this value).
    /// - Parameters:
    ///   - instant: when, on the station's clock, as Unix seconds.
    ///   - action: the action whose handler runs.
    ///   - arguments: its keyword arguments (must encode to a JSON object).
    ///   - droneIDs: the drones; `nil`: every drone the station knows.
    ///   - acknowledgementTimeout: how long to wait for one acknowledgement before sending again (default 250 ms).
    /// - Returns: one result per drone, in the order of `droneIDs` (sorted by
    ///   id when `nil`): its receipt (with how many times it was sent again),
    ///   or, for a drone unreachable until shortly before the instant, the last error.
    /// - Throws: ``MessagingError/decoding(_:)`` when the arguments cannot be encoded (then nothing is sent).
    public func start(
        at instant: Double,
        action: String,
        arguments: some Encodable,
        targets droneIDs: [String]?,
        acknowledgementTimeout: Duration = .milliseconds(250)
    ) async throws(MessagingError) -> StartResults {
        // Encoded once, straight into JSON text, and copied into every drone's request.
        let encoded = try EncodedArguments(keywords: arguments, of: action)
        return await startAll(
            at: instant, action: action, arguments: .encoded(encoded), targets: droneIDs, acknowledgementTimeout: acknowledgementTimeout
        )
    }

    /// Starts an action on many drones at one instant, its keyword arguments
    /// given as JSON (see ``start(at:action:arguments:targets:acknowledgementTimeout:)``).
    /// - Parameters:
    ///   - instant: when, on the station's clock, as Unix seconds.
    ///   - action: the action whose handler runs.
    ///   - kwargs: its keyword arguments.
    ///   - droneIDs: the drones; `nil`: every drone the station knows.
    ///   - acknowledgementTimeout: how long to wait for one acknowledgement before sending again.
    /// - Returns: one result per drone.
    public func start(
        at instant: Double,
        action: String,
        kwargs: JSONObject = [:],
        targets droneIDs: [String]?,
        acknowledgementTimeout: Duration = .milliseconds(250)
    ) async -> StartResults {
        await startAll(at: instant, action: action, arguments: .values(args: [], kwargs: kwargs), targets: droneIDs, acknowledgementTimeout: acknowledgementTimeout)
    }

    /// Starts an action on many drones at one instant, its keyword arguments
    /// as values or as encoded text (see ``start(at:action:arguments:targets:acknowledgementTimeout:)``).
    private func startAll(
        at instant: Double,
        action: String,
        arguments: ActionArguments,
        targets droneIDs: [String]?,
        acknowledgementTimeout: Duration
    ) async -> StartResults {
        let listed = targets(droneIDs)
        let targets = droneIDs == nil ? listed.sorted { $0.id < $1.id } : listed
        let startID = String(UInt64.random(in: 1...UInt64.max), radix: 16)
        let plan = StartPlan(id: startID, instant: instant, action: action, arguments: arguments, acknowledgementTimeout: acknowledgementTimeout)
        let elements = await boundedMap(targets, limit: 256) { [self] target in
            guard target.known else {
                return StartResults.Element(droneID: target.id, result: .failure(.notConnected), skipReason: .unknown)
            }
            return await self.start(plan, on: target.id)
        }
        return StartResults(elements)
    }

    /// A reply whose value is not read (any JSON value decodes as it).
    private struct Acknowledgement: Decodable {
        init(from decoder: any Decoder) {}
    }

    /// What every drone of one timed start gets.
    private struct StartPlan: Sendable {
        var id: String
        var instant: Double
        var action: String
        /// The keyword arguments: values, or an encoded object.
        var arguments: ActionArguments
        var acknowledgementTimeout: Duration

        /// The keyword arguments as values (parsed from the text when encoded).
        var kwargs: JSONObject {
            switch arguments {
            case .values(_, let kwargs): return kwargs
            case .encoded(let encoded): return ReplyPayload.value(ofCheckedText: encoded.text).objectValue ?? [:]
            }
        }
    }

    /// Has one drone take a timed start, sending it again until it does or it is too late.
    private func start(_ plan: StartPlan, on droneID: String) async -> StartResults.Element {
        var attempts = StartAttempts(giveUpAt: plan.instant - Self.startGiveUpMargin, attemptTimeout: plan.acknowledgementTimeout)
        var lastError = MessagingError.notConnected
        while true {
            let connection = connection(for: droneID)
            switch attempts.next(now: WallClock.now, linked: connection != nil) {
            case .giveUp:
                return .init(droneID: droneID, result: .failure(lastError))
            case .waitForLink(let upTo):
                _ = await waitForLink(amongAnyOf: [droneID], timeout: upTo)
                if Task.isCancelled { return .init(droneID: droneID, result: .failure(.cancelled)) }
            case .send(let timeout):
                guard let connection else { continue }
                do throws(MessagingError) {
                    let receipt = try await send(plan, to: connection, droneID: droneID, timeout: timeout, retries: attempts.retries)
                    return .init(droneID: droneID, result: .success(receipt))
                } catch {
                    lastError = error
                    switch error {
                    case .remote, .cancelled, .encoding, .decoding:
                        // The drone refused it (no handler for the action), or the call ended: sending again changes nothing.
                        return .init(droneID: droneID, result: .failure(error))
                    case .timedOut:
                        continue
                    default:
                        // The link dropped or would not take it: a moment for the station to see the link go.
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                }
            }
        }
    }

    /// Sends a timed start once, on the drone's clock, and waits for its confirmation.
    private func send(_ plan: StartPlan, to connection: Connection, droneID: String, timeout: Duration, retries: Int) async throws(MessagingError) -> StartReceipt {
        let offset: ClockOffset
        if let known = clockOffset(for: droneID) {
            offset = known
        } else {
            offset = try await Self.measureClock(connection, configuration: clocks.configuration)
            clocks.record(offset, of: droneID)
        }
        let droneTime = plan.instant + offset.offset.inSeconds
        if connection.peerSpeaksExtensions {
            let arguments: ActionArguments
            if case .encoded(let encoded) = plan.arguments {
                // The start's arguments are copied in as text, not built into a tree.
                arguments = .encoded(encoded.timedStartRequest(id: plan.id, action: plan.action, at: droneTime))
            } else {
                arguments = .values(args: [], kwargs: TimedStartRequest(id: plan.id, action: plan.action, kwargs: plan.kwargs, at: droneTime).jsonObject)
            }
            // The acknowledgement's value says nothing more: it is checked, not built.
            _ = try await connection.request(ExtensionHeader.start, arguments: arguments, as: Acknowledgement.self, timeout: timeout)
            return StartReceipt(confirmation: .acknowledged, retries: retries, droneTime: droneTime, clockOffset: offset)
        }
        let time = PythonFloatFormat.string(droneTime)
        let receipt: SendReceipt
        if case .encoded(let encoded) = plan.arguments, let timed = encoded.adding("time", string: time) {
            receipt = try await connection.send(plan.action, encoded: timed)
        } else {
            var kwargs = plan.kwargs
            kwargs["time"] = .string(time)
            receipt = try await connection.send(plan.action, kwargs: kwargs)
        }
        let guarantee = try await receipt.delivered()
        return StartReceipt(confirmation: guarantee == .delivered ? .acknowledged : .sent, retries: retries, droneTime: droneTime, clockOffset: offset)
    }
}
