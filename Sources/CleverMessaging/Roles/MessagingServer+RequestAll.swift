import OrderedCollections
import NIOCore
import OrderedCollections

extension MessagingServer {
    /// Asks many peers for the same value at once and waits for every outcome.
    ///
    /// The requests are started with one task per event loop (not one task,
    /// promise and thread hop per peer), so asking thousands of peers costs
    /// little more than their replies. Each request times out on its own.
    /// - Parameters:
    ///   - requestedValue: the name of the value; each peer's request handler for it answers.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - timeout: how long each peer has to answer (default ``ConnectionConfiguration/defaultRequestTimeout``).
    ///   - connections: whom to ask (default: every connection whose link is up).
    /// - Returns: one result per connection, in the order of `connections`
    ///   (accepted order by default): the reply's value, or why there is none
    ///   (``MessagingError/timedOut(requestedValue:requestID:timeout:)``, a remote error, a lost link...).
    ///   Cancelling the calling task fails the requests still waiting with ``MessagingError/cancelled``.
    public func requestAll(
        _ requestedValue: String,
        args: [JSONValue] = [],
        kwargs: JSONObject = [:],
        timeout: Duration? = nil,
        connections: [Connection]? = nil
    ) async -> [(connection: Connection, result: Result<JSONValue, MessagingError>)] {
        let targets = connections ?? self.connections
        let results = await RequestFanOut.run(requestedValue, args: args, kwargs: kwargs, timeout: timeout.timeAmount, on: targets)
        return Array(zip(targets, results))
    }

    /// Asks many peers for the same value, its arguments encoded once, and
    /// waits for every outcome (see ``requestAll(_:args:kwargs:timeout:connections:)``).
    /// - Parameters:
    ///   - requestedValue: the name of the value.
    ///   - arguments: encoded to JSON: an object becomes the keyword arguments
    ///     (`kwargs`), an array the positional ones (`args`).
    ///   - timeout: how long each peer has to answer (default ``ConnectionConfiguration/defaultRequestTimeout``).
    ///   - connections: whom to ask (default: every connection whose link is up).
    /// - Returns: one result per connection, in the order of `connections`.
    /// - Throws: ``MessagingError/decoding(_:)`` when the arguments encode to
    ///   neither an object nor an array (then no one is asked).
    public func requestAll(
        _ requestedValue: String,
        arguments: some Encodable,
        timeout: Duration? = nil,
        connections: [Connection]? = nil
    ) async throws(MessagingError) -> [(connection: Connection, result: Result<JSONValue, MessagingError>)] {
        // Encoded straight into JSON text, once for every peer.
        let encoded = try EncodedArguments(arguments, of: requestedValue)
        let targets = connections ?? self.connections
        let results = await RequestFanOut.run(requestedValue, arguments: .encoded(encoded), timeout: timeout.timeAmount, on: targets)
        return Array(zip(targets, results))
    }

    /// Asks many peers for the same value, its arguments encoded once, and
    /// decodes each reply into `Reply` straight from the reply frame's text,
    /// without a ``JSONValue`` tree (see ``requestAll(_:args:kwargs:timeout:connections:)``).
    /// - Parameters:
    ///   - requestedValue: the name of the value.
    ///   - arguments: encoded to JSON: an object becomes the keyword arguments
    ///     (`kwargs`), an array the positional ones (`args`).
    ///   - reply: the type each reply decodes into.
    ///   - timeout: how long each peer has to answer (default ``ConnectionConfiguration/defaultRequestTimeout``).
    ///   - connections: whom to ask (default: every connection whose link is up).
    /// - Returns: one result per connection, in the order of `connections`: the
    ///   decoded reply, or why there is none (``MessagingError/decoding(_:)``
    ///   for a reply that does not decode).
    /// - Throws: ``MessagingError/decoding(_:)`` when the arguments encode to
    ///   neither an object nor an array (then no one is asked).
    public func requestAll<Reply: Decodable & Sendable>(
        _ requestedValue: String,
        arguments: some Encodable,
        as reply: Reply.Type,
        timeout: Duration? = nil,
        connections: [Connection]? = nil
    ) async throws(MessagingError) -> [(connection: Connection, result: Result<Reply, MessagingError>)] {
        let encoded = try EncodedArguments(arguments, of: requestedValue)
        return await requestAll(requestedValue, arguments: .encoded(encoded), as: Reply.self, timeout: timeout, connections: connections)
    }

    /// Asks many peers for the same value, without arguments, and decodes each
    /// reply into `Reply` (see ``requestAll(_:arguments:as:timeout:connections:)``).
    /// - Parameters:
    ///   - requestedValue: the name of the value.
    ///   - reply: the type each reply decodes into.
    ///   - timeout: how long each peer has to answer (default ``ConnectionConfiguration/defaultRequestTimeout``).
    ///   - connections: whom to ask (default: every connection whose link is up).
    /// - Returns: one result per connection, in the order of `connections`.
    public func requestAll<Reply: Decodable & Sendable>(
        _ requestedValue: String,
        as reply: Reply.Type,
        timeout: Duration? = nil,
        connections: [Connection]? = nil
    ) async -> [(connection: Connection, result: Result<Reply, MessagingError>)] {
        await requestAll(requestedValue, arguments: .values(args: [], kwargs: [:]), as: Reply.self, timeout: timeout, connections: connections)
    }

    /// The typed fan-out: replies kept as JSON values take the plain one.
    private func requestAll<Reply: Decodable & Sendable>(
        _ requestedValue: String,
        arguments: ActionArguments,
        as reply: Reply.Type,
        timeout: Duration?,
        connections: [Connection]?
    ) async -> [(connection: Connection, result: Result<Reply, MessagingError>)] {
        let targets = connections ?? self.connections
        if Reply.self == JSONValue.self {
            let results = await RequestFanOut.run(requestedValue, arguments: arguments, timeout: timeout.timeAmount, on: targets)
            return zip(targets, results).map { connection, result in (connection: connection, result: result.map { value in value as! Reply }) }
        }
        let results = await RequestFanOut.run(requestedValue, arguments: arguments, timeout: timeout.timeAmount, as: Reply.self, on: targets)
        return zip(targets, results).map { connection, result in (connection: connection, result: result.flatMap { decoded in decoded }) }
    }
}
