extension Connection {
    /// Sends an action, its arguments encoded from `arguments`, and waits until
    /// it is written to the socket.
    /// - Parameters:
    ///   - action: the action name; the peer's handler for it is called.
    ///   - arguments: encoded to JSON: an object becomes the keyword arguments
    ///     (`kwargs`), an array the positional ones (`args`); written straight
    ///     into the frame's text, without a ``JSONValue`` tree in between.
    /// - Returns: the receipt (see ``send(_:args:kwargs:)``).
    /// - Throws: ``MessagingError``; ``MessagingError/decoding(_:)`` when the
    ///   arguments encode to neither an object nor an array (then nothing is sent).
    @discardableResult
    public func send(_ action: String, arguments: some Encodable) async throws(MessagingError) -> SendReceipt {
        let receipt = try enqueueAction(action, arguments: .encoded(EncodedArguments(arguments, of: action)), awaited: true)
        do {
            try await receipt.written()
        } catch {
            // A numbered action whose link dropped is sent again on the next one.
            guard receipt.guarantee == .delivered, error == .connectionLost else { throw error }
        }
        return receipt
    }

    /// Sends an action whose arguments are encoded already, and waits until it
    /// is written to the socket (see ``send(_:arguments:)``).
    @discardableResult
    package func send(_ action: String, encoded: EncodedArguments) async throws(MessagingError) -> SendReceipt {
        let receipt = try enqueueAction(action, arguments: .encoded(encoded), awaited: true)
        do {
            try await receipt.written()
        } catch {
            // A numbered action whose link dropped is sent again on the next one.
            guard receipt.guarantee == .delivered, error == .connectionLost else { throw error }
        }
        return receipt
    }

    /// Queues an action, its arguments encoded from `arguments` straight into
    /// JSON text, and returns at once; for bursts (see ``send(_:arguments:)``).
    /// - Parameters:
    ///   - action: the action name.
    ///   - arguments: encoded to JSON: an object becomes `kwargs`, an array `args`.
    /// - Returns: a receipt shared by the frames of the same write.
    /// - Throws: ``MessagingError`` when it cannot be queued or encoded.
    @discardableResult
    package func enqueueMessage(_ action: String, arguments: some Encodable) throws(MessagingError) -> SendReceipt {
        try enqueueAction(action, arguments: .encoded(EncodedArguments(arguments, of: action)), awaited: false)
    }

    /// Asks the peer for a value, its arguments encoded from `arguments`, and
    /// decodes the reply into `Reply`.
    /// The arguments are encoded straight into JSON text (no ``JSONValue``
    /// tree), which the request keeps to be written again after a reconnect.
    /// - Parameters:
    ///   - requestedValue: the name of the value.
    ///   - arguments: encoded to JSON: an object becomes the keyword arguments
    ///     (`kwargs`), an array the positional ones (`args`).
    ///   - reply: the type the reply decodes into.
    ///   - timeout: how long to wait (default ``ConnectionConfiguration/defaultRequestTimeout``).
    /// - Returns: the decoded reply.
    /// - Throws: ``MessagingError``; ``MessagingError/decoding(_:)`` when the
    ///   arguments encode to neither an object nor an array, or the reply does not decode.
    public func request<Reply: Decodable>(
        _ requestedValue: String,
        arguments: some Encodable,
        as reply: Reply.Type,
        timeout: Duration? = nil
    ) async throws(MessagingError) -> Reply {
        let encoded = try EncodedArguments(arguments, of: requestedValue)
        return try await request(requestedValue, arguments: .encoded(encoded), as: Reply.self, timeout: timeout)
    }

    /// Asks the peer for a value without arguments and decodes the reply into `Reply`.
    /// - Parameters:
    ///   - requestedValue: the name of the value.
    ///   - reply: the type the reply decodes into.
    ///   - timeout: how long to wait (default ``ConnectionConfiguration/defaultRequestTimeout``).
    /// - Returns: the decoded reply.
    /// - Throws: ``MessagingError``; ``MessagingError/decoding(_:)`` when the reply does not decode.
    public func request<Reply: Decodable>(
        _ requestedValue: String,
        as reply: Reply.Type,
        timeout: Duration? = nil
    ) async throws(MessagingError) -> Reply {
        try await request(requestedValue, args: [], kwargs: [:], as: Reply.self, timeout: timeout)
    }

    /// Asks the peer for a value and decodes the reply into `Reply` straight
    /// from the reply frame's text, without a ``JSONValue`` tree in between:
    /// the request waits in the table as one asking for a typed reply, and the
    /// read loop keeps its reply's `value` as (checked) text (see ``TypedReplies``).
    /// A `Reply` of ``JSONValue`` takes the plain path (``request(_:args:kwargs:timeout:)``).
    /// - Parameters:
    ///   - requestedValue: the name of the value.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - reply: the type the reply decodes into.
    ///   - timeout: how long to wait (default ``ConnectionConfiguration/defaultRequestTimeout``).
    /// - Returns: the decoded reply.
    /// - Throws: ``MessagingError``; ``MessagingError/decoding(_:)`` when the reply does not decode.
    package func request<Reply: Decodable>(
        _ requestedValue: String,
        args: [JSONValue],
        kwargs: JSONObject,
        as reply: Reply.Type,
        timeout: Duration?
    ) async throws(MessagingError) -> Reply {
        if Reply.self == JSONValue.self {
            return try await request(requestedValue, args: args, kwargs: kwargs, timeout: timeout) as! Reply
        }
        return try await request(requestedValue, arguments: .values(args: args, kwargs: kwargs), as: Reply.self, timeout: timeout)
    }

    /// Asks the peer for a value, its arguments given as values or as encoded
    /// text, and decodes the reply into `Reply` straight from the reply
    /// frame's text (see ``request(_:args:kwargs:as:timeout:)``).
    /// - Parameters:
    ///   - requestedValue: the name of the value.
    ///   - arguments: the arguments; kept by the request to write it again after a reconnect.
    ///   - reply: the type the reply decodes into.
    ///   - timeout: how long to wait (default ``ConnectionConfiguration/defaultRequestTimeout``).
    /// - Returns: the decoded reply.
    /// - Throws: ``MessagingError``; ``MessagingError/decoding(_:)`` when the reply does not decode.
    package func request<Reply: Decodable>(
        _ requestedValue: String,
        arguments: ActionArguments,
        as reply: Reply.Type,
        timeout: Duration?
    ) async throws(MessagingError) -> Reply {
        let request = PendingRequests.Entry.Request(
            requestedValue: requestedValue, arguments: arguments, timeout: (timeout ?? configuration.defaultRequestTimeout).timeAmount
        )
        let payload: ReplyPayload
        if #available(macOS 15.0, *) {
            // Suspended on a continuation its table entry resumes: no promise, no callback on a future.
            if Reply.self == JSONValue.self {
                return try await suspendForReply(request) { .continuation($0) } as! Reply
            }
            payload = try await suspendForReply(request) { .typedContinuation($0) }
        } else {
            if Reply.self == JSONValue.self {
                let promise = eventLoop.makePromise(of: JSONValue.self)
                let id = try startAwaitedRequest(request, completion: .promise(promise))
                return try await waitForReply(promise, id: id) as! Reply
            }
            let promise = eventLoop.makePromise(of: ReplyPayload.self)
            let id = try startAwaitedRequest(request, completion: .typed(promise))
            payload = try await waitForReply(promise, id: id)
        }
        // Decoded by the waiting task, not on the event loop.
        return try payload.decode(as: Reply.self, name: requestedValue, limits: configuration.codec.json, counts: typedReplies)
    }
}

/// Decodes replies from values, and words their decoding errors.
package enum MessageArguments {
    /// A reply's value decoded as `Reply`.
    /// - Throws: ``MessagingError/decoding(_:)`` when it does not decode.
    package static func decode<Reply: Decodable>(_ value: JSONValue, as reply: Reply.Type, name: String) throws(MessagingError) -> Reply {
        do {
            return try JSONValueDecoder().decode(Reply.self, from: value)
        } catch {
            throw replyError(error, as: Reply.self, name: name)
        }
    }

    /// The error of a reply to `name` that does not decode as `Reply` (the same
    /// whether it was decoded from a ``JSONValue`` or from its text).
    package static func replyError<Reply>(_ error: any Error, as reply: Reply.Type, name: String) -> MessagingError {
        .decoding("reply to \(name) does not decode as \(Reply.self): \(error)")
    }
}
