import NIOCore

extension GroundStation {
    // MARK: - Actions

    /// Sends an action to the given drones, its arguments encoded once, and
    /// waits until it is written to each drone's socket.
    /// - Parameters:
    ///   - action: the action name; each drone's handler for it is called.
    ///   - arguments: the action's keyword arguments (must encode to a JSON object).
    ///   - droneIDs: the drones to send to.
    /// - Returns: one result per drone, in the order of `droneIDs`: sent, or why not
    ///   (``MessagingError/notConnected`` for a drone without a link).
    /// - Throws: ``MessagingError/encoding(_:)`` or ``MessagingError/decoding(_:)``
    ///   when the arguments cannot be encoded (then nothing is sent).
    public func send(_ action: String, arguments: some Encodable, to droneIDs: [String]) async throws(MessagingError) -> SendResults {
        let kwargs = try Self.keywordArguments(arguments, of: action)
        return try await send(action, kwargs: kwargs, to: connections(for: droneIDs))
    }

    /// Sends an action without arguments to the given drones (see ``send(_:arguments:to:)``).
    /// - Parameters:
    ///   - action: the action name.
    ///   - droneIDs: the drones to send to.
    /// - Returns: one result per drone, in the order of `droneIDs`.
    /// - Throws: ``MessagingError/encoding(_:)`` when the frame cannot be encoded.
    public func send(_ action: String, to droneIDs: [String]) async throws(MessagingError) -> SendResults {
        try await send(action, kwargs: [:], to: connections(for: droneIDs))
    }

    /// Sends an action to every connected drone (see ``send(_:arguments:to:)``).
    /// - Parameters:
    ///   - action: the action name.
    ///   - arguments: the action's keyword arguments (must encode to a JSON object).
    /// - Returns: one result per connected drone, sorted by id.
    /// - Throws: when the arguments cannot be encoded (then nothing is sent).
    public func broadcast(_ action: String, arguments: some Encodable) async throws(MessagingError) -> SendResults {
        let kwargs = try Self.keywordArguments(arguments, of: action)
        return try await send(action, kwargs: kwargs, to: linkedDrones().sorted { $0.id < $1.id }.map { ($0.id, $0.connection) })
    }

    /// Sends an action without arguments to every connected drone.
    /// - Parameter action: the action name.
    /// - Returns: one result per connected drone, sorted by id.
    /// - Throws: ``MessagingError/encoding(_:)`` when the frame cannot be encoded.
    public func broadcast(_ action: String) async throws(MessagingError) -> SendResults {
        try await send(action, kwargs: [:], to: linkedDrones().sorted { $0.id < $1.id }.map { ($0.id, $0.connection) })
    }

    private func send(
        _ action: String,
        kwargs: JSONObject,
        to targets: [(id: String, connection: Connection?)]
    ) async throws(MessagingError) -> SendResults {
        let bytes = try MessagingServer.encodeAction(action, args: [], kwargs: kwargs)
        let linked = targets.compactMap(\.connection)
        var queued = server.enqueue(bytes, on: linked, action: (action, [], kwargs)).makeIterator()
        var receipts: [(position: Int, receipt: SendReceipt)] = []
        var results: [SendResults.Element] = targets.map { SendResults.Element(droneID: $0.id, result: .failure(.notConnected)) }
        for (position, target) in targets.enumerated() where target.connection != nil {
            guard let (_, result) = queued.next() else { break }
            switch result {
            case .success(let receipt): receipts.append((position, receipt))
            case .failure(let error): results[position] = SendResults.Element(droneID: target.id, result: .failure(error))
            }
        }
        // Every frame is on its way: waiting for them in turn takes as long as the slowest.
        for (position, receipt) in receipts {
            let outcome: Result<Void, MessagingError>
            do throws(MessagingError) {
                try await receipt.written()
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            results[position] = SendResults.Element(droneID: targets[position].id, result: outcome)
        }
        return SendResults(results)
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
    /// ``MessagingError/cancelled``.
    /// - Parameters:
    ///   - name: the name of the value, such as `telemetry`.
    ///   - arguments: the request's keyword arguments (must encode to a JSON object).
    ///   - droneIDs: the drones to ask (default: every connected drone).
    ///   - reply: the type each reply decodes into.
    ///   - timeout: how long each drone has to answer (default: the connection configuration's).
    /// - Returns: one result per drone, in the order of `droneIDs` (sorted by id
    ///   by default): its decoded reply, or why there is none
    ///   (``MessagingError/notConnected`` for a drone without a link).
    /// - Throws: when the arguments cannot be encoded (then nothing is sent).
    public func requestAll<Reply: Decodable & Sendable>(
        _ name: String,
        arguments: some Encodable,
        from droneIDs: [String]? = nil,
        as reply: Reply.Type,
        timeout: Duration? = nil
    ) async throws(MessagingError) -> DroneResults<Reply> {
        let kwargs = try Self.keywordArguments(arguments, of: name)
        return await requestAll(name, kwargs: kwargs, from: droneIDs, as: Reply.self, timeout: timeout)
    }

    /// Asks many drones for the same value, without arguments (see
    /// ``requestAll(_:arguments:from:as:timeout:)``).
    /// - Parameters:
    ///   - name: the name of the value.
    ///   - droneIDs: the drones to ask (default: every connected drone).
    ///   - reply: the type each reply decodes into.
    ///   - timeout: how long each drone has to answer (default: the connection configuration's).
    /// - Returns: one result per drone, in the order of `droneIDs` (sorted by id by default).
    public func requestAll<Reply: Decodable & Sendable>(
        _ name: String,
        from droneIDs: [String]? = nil,
        as reply: Reply.Type,
        timeout: Duration? = nil
    ) async -> DroneResults<Reply> {
        await requestAll(name, kwargs: [:], from: droneIDs, as: Reply.self, timeout: timeout)
    }

    private func requestAll<Reply: Decodable & Sendable>(
        _ name: String,
        kwargs: JSONObject,
        from droneIDs: [String]?,
        as reply: Reply.Type,
        timeout: Duration?
    ) async -> DroneResults<Reply> {
        let answers = await requestAllValues(name, kwargs: kwargs, ids: droneIDs, timeout: timeout.timeAmount)
        return DroneResults(answers.map { answer in
            DroneResults<Reply>.Element(droneID: answer.id, result: answer.result.flatMap { value in Self.decode(value, as: Reply.self, name: name) })
        })
    }

    private static func decode<Reply: Decodable>(_ value: JSONValue, as: Reply.Type, name: String) -> Result<Reply, MessagingError> {
        if let same = value as? Reply { return .success(same) }
        do {
            return .success(try JSONValueDecoder().decode(Reply.self, from: value))
        } catch {
            return .failure(.decoding("reply to \(name) does not decode as \(Reply.self): \(error)"))
        }
    }

    /// The replies as values: one per drone, in the order of `ids` (sorted by id when `nil`).
    func requestAllValues(
        _ name: String,
        kwargs: JSONObject,
        ids: [String]?,
        timeout: TimeAmount?
    ) async -> [(id: String, result: Result<JSONValue, MessagingError>)] {
        guard let ids else {
            let targets = linkedDrones()
            // Asked in table order; sorted by id only once the answers are in, so that
            // sorting thousands of drones does not delay the first request. The sort
            // moves indices, and each answer is copied once, into its sorted place.
            let answers = await RequestFanOut.run(name, args: [], kwargs: kwargs, timeout: timeout, on: targets.map(\.connection))
            return targets.indices.sorted { targets[$0].id < targets[$1].id }.map { (targets[$0].id, answers[$0]) }
        }
        let targets = connections(for: ids)
        // Asked in the order given; the drones without a link are not asked.
        let answers = await RequestFanOut.run(name, args: [], kwargs: kwargs, timeout: timeout, on: targets.compactMap(\.connection))
        var results: [(id: String, result: Result<JSONValue, MessagingError>)] = []
        results.reserveCapacity(targets.count)
        var next = answers.startIndex
        for target in targets {
            if target.connection != nil, next < answers.endIndex {
                results.append((target.id, answers[next]))
                next += 1
            } else {
                results.append((target.id, .failure(.notConnected)))
            }
        }
        return results
    }

    /// `arguments` encoded as a request's or action's keyword arguments.
    static func keywordArguments(_ arguments: some Encodable, of name: String) throws(MessagingError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValueEncoder().encode(arguments)
        } catch {
            throw .decoding("cannot encode arguments of \(name): \(error)")
        }
        guard case .object(let object) = value else {
            throw .decoding("arguments of \(name) must encode to a JSON object")
        }
        return object
    }
}
