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
}
