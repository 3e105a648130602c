extension Connection {
    /// Asks the peer for a value, sending `kwargs` encoded from `arguments`,
    /// and decodes the reply into `Reply`.
    /// - Parameters:
    ///   - requestedValue: the name of the value.
    ///   - arguments: encoded into the request's `kwargs` (must encode to an object).
    ///   - reply: the type the reply decodes into.
    ///   - timeout: how long to wait (default ``ConnectionConfiguration/defaultRequestTimeout``).
    /// - Returns: the decoded reply.
    /// - Throws: ``MessagingError``; ``MessagingError/decoding(_:)`` when the
    ///   arguments do not encode to an object or the reply does not decode.
    public func request<Arguments: Encodable, Reply: Decodable>(
        _ requestedValue: String,
        arguments: Arguments,
        as reply: Reply.Type,
        timeout: Duration? = nil
    ) async throws(MessagingError) -> Reply {
        let kwargs: JSONObject
        do {
            guard case .object(let object) = try JSONValueEncoder().encode(arguments) else {
                throw MessagingError.decoding("arguments of \(requestedValue) must encode to a JSON object")
            }
            kwargs = object
        } catch let error as MessagingError {
            throw error
        } catch {
            throw .decoding("cannot encode arguments of \(requestedValue): \(error)")
        }
        return try await request(requestedValue, kwargs: kwargs, as: Reply.self, timeout: timeout)
    }

    /// Asks the peer for a value and decodes the reply into `Reply`.
    /// - Parameters:
    ///   - requestedValue: the name of the value.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - reply: the type the reply decodes into.
    ///   - timeout: how long to wait.
    /// - Returns: the decoded reply.
    /// - Throws: ``MessagingError``.
    public func request<Reply: Decodable>(
        _ requestedValue: String,
        args: [JSONValue] = [],
        kwargs: JSONObject = [:],
        as reply: Reply.Type,
        timeout: Duration? = nil
    ) async throws(MessagingError) -> Reply {
        let value = try await request(requestedValue, args: args, kwargs: kwargs, timeout: timeout)
        do {
            return try JSONValueDecoder().decode(Reply.self, from: value)
        } catch {
            throw .decoding("reply to \(requestedValue) does not decode as \(Reply.self): \(error)")
        }
    }
}

import NIOCore
