import NIOCore

extension GroundStation {
    // MARK: - Actions

    /// Sends an action to the given drones, its arguments encoded once, and
    /// waits until it is written to each drone's socket (or, toward a drone with
    /// acknowledged delivery whose link dropped first, kept in its session for
    /// its next link: the receipt's ``SendReceipt/delivered()`` then tells).
    ///
    /// No drone is skipped silently: each one named is in the results, sent or
    /// with why not (its ``DroneResults/Element/skipReason``: ``DroneSkipReason/disconnected``
    /// for a known drone without a link, ``DroneSkipReason/unknown`` for an id
    /// the station has never seen, ``DroneSkipReason/refused`` when its link
    /// would not take the frame).
    /// - Parameters:
    ///   - action: the action name; each drone's handler for it is called.
    ///   - arguments: the action's keyword arguments (must encode to a JSON object).
    ///   - droneIDs: the drones to send to.
    ///   - wait: how long to wait for a known drone without a link to be
    ///     identified again (it is sent to as soon as it is); `nil`: not at all.
    /// - Returns: one result per drone, in the order of `droneIDs`: the receipt
    ///   of the written frame, or why not (``MessagingError/notConnected`` for a
    ///   drone without a link).
    /// - Throws: ``MessagingError/encoding(_:)`` or ``MessagingError/decoding(_:)``
    ///   when the arguments cannot be encoded (then nothing is sent).
    public func send(
        _ action: String,
        arguments: some Encodable,
        to droneIDs: [String],
        waitingUpTo wait: Duration? = nil
    ) async throws(MessagingError) -> SendResults {
        let encoded = try EncodedArguments(keywords: arguments, of: action)
        return try await send(action, arguments: .encoded(encoded), to: droneIDs, waitingUpTo: wait)
    }

    /// Sends an action without arguments to the given drones (see ``send(_:arguments:to:waitingUpTo:)``).
    /// - Parameters:
    ///   - action: the action name.
    ///   - droneIDs: the drones to send to.
    ///   - wait: how long to wait for a known drone without a link to come back (`nil`: not at all).
    /// - Returns: one result per drone, in the order of `droneIDs`.
    /// - Throws: ``MessagingError/encoding(_:)`` when the frame cannot be encoded.
    public func send(_ action: String, to droneIDs: [String], waitingUpTo wait: Duration? = nil) async throws(MessagingError) -> SendResults {
        try await send(action, args: [], kwargs: [:], to: droneIDs, waitingUpTo: wait)
    }

    /// Sends an action with positional and keyword arguments as JSON values,
    /// encoded once (see ``send(_:arguments:to:waitingUpTo:)``).
    /// - Parameters:
    ///   - action: the action name.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - droneIDs: the drones to send to; `nil`: every drone the station
    ///     knows, connected or not (as ``broadcast(_:arguments:waitingUpTo:)``).
    ///   - wait: how long to wait for a known drone without a link to come back
    ///     (`nil`: not at all); a drone whose link drops as the action is
    ///     queued, before anything was sent, gets it on its next link within
    ///     this time too.
    /// - Returns: one result per drone, in the order of `droneIDs` (sorted by id when `nil`).
    /// - Throws: ``MessagingError/encoding(_:)`` when the frame cannot be encoded.
    public func send(
        _ action: String,
        args: [JSONValue],
        kwargs: JSONObject,
        to droneIDs: [String]?,
        waitingUpTo wait: Duration? = nil
    ) async throws(MessagingError) -> SendResults {
        try await send(action, arguments: .values(args: args, kwargs: kwargs), to: droneIDs, waitingUpTo: wait)
    }

    /// Sends an action to the given drones, encoded once (see ``send(_:args:kwargs:to:waitingUpTo:)``).
    func send(
        _ action: String,
        arguments: ActionArguments,
        to droneIDs: [String]?,
        waitingUpTo wait: Duration?
    ) async throws(MessagingError) -> SendResults {
        let bytes = try MessagingServer.encodeAction(action, arguments: arguments)
        let targets = targets(droneIDs)
        let results = await reach(targets, waitingUpTo: wait, retryingDroppedLinks: true) { [self] connections in
            await self.write(bytes, action: (action, arguments), to: connections)
        }
        let elements = Self.elements(targets, results)
        return SendResults(droneIDs == nil ? Self.sortedByID(elements) : elements)
    }

    /// Sends an action to every drone the station knows, its arguments encoded
    /// once (see ``send(_:arguments:to:waitingUpTo:)``).
    ///
    /// A drone known from before whose link is down is in the results as
    /// ``DroneSkipReason/disconnected``, unless it is identified again within
    /// `wait`: then it is sent to.
    /// - Parameters:
    ///   - action: the action name.
    ///   - arguments: the action's keyword arguments (must encode to a JSON object).
    ///   - wait: how long to wait for disconnected drones to come back (`nil`: not at all).
    /// - Returns: one result per known drone, sorted by id.
    /// - Throws: when the arguments cannot be encoded (then nothing is sent).
    public func broadcast(_ action: String, arguments: some Encodable, waitingUpTo wait: Duration? = nil) async throws(MessagingError) -> SendResults {
        let encoded = try EncodedArguments(keywords: arguments, of: action)
        return try await send(action, arguments: .encoded(encoded), to: nil, waitingUpTo: wait)
    }

    /// Sends an action without arguments to every drone the station knows
    /// (see ``broadcast(_:arguments:waitingUpTo:)``).
    /// - Parameters:
    ///   - action: the action name.
    ///   - wait: how long to wait for disconnected drones to come back (`nil`: not at all).
    /// - Returns: one result per known drone, sorted by id.
    /// - Throws: ``MessagingError/encoding(_:)`` when the frame cannot be encoded.
    public func broadcast(_ action: String, waitingUpTo wait: Duration? = nil) async throws(MessagingError) -> SendResults {
        try await send(action, args: [], kwargs: [:], to: nil, waitingUpTo: wait)
    }

    // MARK: - Requests

    /// Asks one drone for a value and decodes its reply.
    /// - Parameters:
    ///   - name: the name of the value, such as `telemetry`.
    ///   - arguments: the request's keyword arguments (must encode to a JSON object).
    ///   - droneID: the drone to ask.
    ///   - reply: the type the reply decodes into.
    ///   - timeout: how long to wait (default: the connection configuration's).
    /// - Returns: the decoded reply.
    /// - Throws: ``MessagingError``: ``MessagingError/notConnected`` when the
    ///   drone has no link, a timeout, the drone's error reply, or
    ///   ``MessagingError/decoding(_:)`` when the reply does not decode.
    public func request<Reply: Decodable>(
        _ name: String,
        arguments: some Encodable,
        from droneID: String,
        as reply: Reply.Type,
        timeout: Duration? = nil
    ) async throws(MessagingError) -> Reply {
        guard let connection = connection(for: droneID) else { throw .notConnected }
        return try await connection.request(name, arguments: arguments, as: Reply.self, timeout: timeout)
    }

    /// Asks one drone for a value, without arguments (see ``request(_:arguments:from:as:timeout:)``).
    /// - Parameters:
    ///   - name: the name of the value.
    ///   - droneID: the drone to ask.
    ///   - reply: the type the reply decodes into.
    ///   - timeout: how long to wait (default: the connection configuration's).
    /// - Returns: the decoded reply.
    /// - Throws: ``MessagingError``.
    public func request<Reply: Decodable>(
        _ name: String,
        from droneID: String,
        as reply: Reply.Type,
        timeout: Duration? = nil
    ) async throws(MessagingError) -> Reply {
        guard let connection = connection(for: droneID) else { throw .notConnected }
        return try await connection.request(name, as: Reply.self, timeout: timeout)
    }

    /// Asks many drones for the same value at once and decodes each reply.
    ///
    /// The requests are started with one task per event loop (not one task,
    /// promise and thread hop per drone), so asking thousands of drones costs
    /// little more than their replies. Each request times out on its own.
    /// Cancelling the calling task fails the requests still waiting with
    /// ``MessagingError/cancelled``. No drone is skipped silently: each one
    /// asked is in the results, with its reply or why there is none (its
    /// ``DroneResults/Element/skipReason``).
    /// - Parameters:
    ///   - name: the name of the value, such as `telemetry`.
    ///   - arguments: the request's keyword arguments (must encode to a JSON object).
    ///   - droneIDs: the drones to ask (default: every drone the station knows, connected or not).
    ///   - reply: the type each reply decodes into.
    ///   - timeout: how long each drone has to answer (default: the connection configuration's).
    ///   - wait: how long to wait for a known drone without a link to be
    ///     identified again (it is asked as soon as it is); `nil`: not at all.
    /// - Returns: one result per drone, in the order of `droneIDs` (sorted by id
    ///   by default): its decoded reply, or why there is none
    ///   (``MessagingError/notConnected`` for a drone without a link).
    /// - Throws: when the arguments cannot be encoded (then nothing is sent).
    public func requestAll<Reply: Decodable & Sendable>(
        _ name: String,
        arguments: some Encodable,
        from droneIDs: [String]? = nil,
        as reply: Reply.Type,
        timeout: Duration? = nil,
        waitingUpTo wait: Duration? = nil
    ) async throws(MessagingError) -> DroneResults<Reply> {
        let encoded = try EncodedArguments(keywords: arguments, of: name)
        return await requestAll(name, arguments: .encoded(encoded), from: droneIDs, as: Reply.self, timeout: timeout, waitingUpTo: wait)
    }

    /// Asks many drones for the same value, without arguments (see
    /// ``requestAll(_:arguments:from:as:timeout:waitingUpTo:)``).
    /// - Parameters:
    ///   - name: the name of the value.
    ///   - droneIDs: the drones to ask (default: every drone the station knows).
    ///   - reply: the type each reply decodes into.
    ///   - timeout: how long each drone has to answer (default: the connection configuration's).
    ///   - wait: how long to wait for a known drone without a link to come back (`nil`: not at all).
    /// - Returns: one result per drone, in the order of `droneIDs` (sorted by id by default).
    public func requestAll<Reply: Decodable & Sendable>(
        _ name: String,
        from droneIDs: [String]? = nil,
        as reply: Reply.Type,
        timeout: Duration? = nil,
        waitingUpTo wait: Duration? = nil
    ) async -> DroneResults<Reply> {
        await requestAll(name, arguments: .values(args: [], kwargs: [:]), from: droneIDs, as: Reply.self, timeout: timeout, waitingUpTo: wait)
    }

    /// Asks many drones for the same value, with positional and keyword
    /// arguments as JSON values, and keeps each reply as a JSON value (see
    /// ``requestAll(_:arguments:from:as:timeout:waitingUpTo:)``).
    /// - Parameters:
    ///   - name: the name of the value.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - droneIDs: the drones to ask; `nil`: every drone the station knows, connected or not.
    ///   - timeout: how long each drone has to answer (default: the connection configuration's).
    ///   - wait: how long to wait for a known drone without a link to come back (`nil`: not at all).
    /// - Returns: one result per drone, in the order of `droneIDs` (sorted by id when `nil`).
    public func requestAll(
        _ name: String,
        args: [JSONValue],
        kwargs: JSONObject,
        from droneIDs: [String]?,
        timeout: Duration? = nil,
        waitingUpTo wait: Duration? = nil
    ) async -> DroneResults<JSONValue> {
        DroneResults(await requestAllValues(name, args: args, kwargs: kwargs, ids: droneIDs, timeout: timeout.timeAmount, waitingUpTo: wait))
    }

    /// Asks many drones for the same value and decodes each reply into
    /// `Reply` straight from its text, by the calling task (see
    /// ``RequestFanOut/run(_:arguments:timeout:as:on:)``); replies kept as
    /// JSON values without encoded arguments take the plain fan-out, unchanged.
    private func requestAll<Reply: Decodable & Sendable>(
        _ name: String,
        arguments: ActionArguments,
        from droneIDs: [String]?,
        as reply: Reply.Type,
        timeout: Duration?,
        waitingUpTo wait: Duration?
    ) async -> DroneResults<Reply> {
        if Reply.self == JSONValue.self, case .values(let args, let kwargs) = arguments {
            // Replies kept as JSON values need no decoding: the elements are returned as they are (one cast for all).
            let answers = await requestAllValues(name, args: args, kwargs: kwargs, ids: droneIDs, timeout: timeout.timeAmount, waitingUpTo: wait)
            return DroneResults(answers) as! DroneResults<Reply>
        }
        let targets = targets(droneIDs)
        let perDrone = timeout.timeAmount
        let answers = await reach(targets, waitingUpTo: wait) { connections in
            await RequestFanOut.run(name, arguments: arguments, timeout: perDrone, as: Reply.self, on: connections)
        }
        // A reply that does not decode is a failure of its own; a drone not reached keeps its reason.
        let elements = Self.elements(targets, answers).map { answer in
            DroneResults<Reply>.Element(droneID: answer.droneID, result: answer.result.flatMap { $0 }, skipReason: answer.skipReason)
        }
        return DroneResults(droneIDs == nil ? Self.sortedByID(elements) : elements)
    }

    /// The replies as values: one per drone, in the order of `ids` (every
    /// known drone, sorted by id, when `nil`).
    func requestAllValues(
        _ name: String,
        args: [JSONValue],
        kwargs: JSONObject,
        ids: [String]?,
        timeout: TimeAmount?,
        waitingUpTo wait: Duration?
    ) async -> [DroneResults<JSONValue>.Element] {
        // Every drone is asked in table order, and sorted by id only once the
        // answers are in, so that sorting thousands of drones does not delay the first request.
        let targets = targets(ids)
        let answers = await reach(targets, waitingUpTo: wait) { connections in
            await RequestFanOut.run(name, args: args, kwargs: kwargs, timeout: timeout, on: connections)
        }
        let elements = Self.elements(targets, answers)
        return ids == nil ? Self.sortedByID(elements) : elements
    }
}
