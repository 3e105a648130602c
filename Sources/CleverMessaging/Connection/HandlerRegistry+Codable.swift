extension HandlerRegistry {
    /// Registers a handler for action `name` whose `kwargs` decode into `Arguments`.
    ///
    /// The arguments are decoded straight from the frame's bytes, without a
    /// ``JSONValue`` tree in between. A frame whose `kwargs` do not decode is
    /// logged and dropped, like a handler error.
    /// - Parameters:
    ///   - name: the action name.
    ///   - arguments: the type `kwargs` decode into.
    ///   - handler: called with (connection, decoded kwargs) on the event loop.
    public func onAction<Arguments: Decodable & SendableMetatype>(
        _ name: String,
        decoding arguments: Arguments.Type,
        _ handler: @escaping @Sendable (Connection, Arguments) throws -> Void
    ) {
        setAction(name, .decoding(.sync(Arguments.self, handler)))
    }

    /// Registers an `async` handler for action `name` whose `kwargs` decode into `Arguments`.
    /// - Parameters:
    ///   - name: the action name.
    ///   - arguments: the type `kwargs` decode into.
    ///   - handler: called with (connection, decoded kwargs) in a task of its own.
    public func onAction<Arguments: Decodable & SendableMetatype>(
        _ name: String,
        decoding arguments: Arguments.Type,
        _ handler: @escaping @Sendable (Connection, Arguments) async throws -> Void
    ) {
        setAction(name, .decoding(.async(Arguments.self, handler)))
    }

    /// Registers a handler for requests of `name` whose `kwargs` decode into
    /// `Arguments` and whose reply is encoded from `Reply`.
    ///
    /// The arguments are decoded straight from the frame's bytes and the reply
    /// encoded straight into the reply frame, without ``JSONValue`` trees in
    /// between. `kwargs` that do not decode make the handler fail (an error
    /// reply for peers that understand them, no reply for reference peers).
    /// - Parameters:
    ///   - name: the requested value.
    ///   - arguments: the type `kwargs` decode into.
    ///   - handler: returns the reply.
    public func onRequest<Arguments: Decodable & SendableMetatype, Reply: Encodable & SendableMetatype>(
        _ name: String,
        decoding arguments: Arguments.Type,
        _ handler: @escaping @Sendable (Connection, Arguments) throws -> Reply
    ) {
        setRequest(name, .decoding(.sync(Arguments.self, handler)))
    }

    /// Registers an `async` handler for requests of `name` with decoded `kwargs`
    /// and an encoded reply.
    /// - Parameters:
    ///   - name: the requested value.
    ///   - arguments: the type `kwargs` decode into.
    ///   - handler: returns the reply.
    public func onRequest<Arguments: Decodable & SendableMetatype, Reply: Encodable & SendableMetatype>(
        _ name: String,
        decoding arguments: Arguments.Type,
        _ handler: @escaping @Sendable (Connection, Arguments) async throws -> Reply
    ) {
        setRequest(name, .decoding(.async(Arguments.self, handler)))
    }

    // MARK: - Without arguments

    /// Registers a handler for action `name` that takes no arguments (any the
    /// frame carries are ignored): `registry.onAction("land") { connection in … }`.
    /// - Parameters:
    ///   - name: the action name.
    ///   - handler: called with the connection on the event loop.
    public func onAction(_ name: String, _ handler: @escaping @Sendable (Connection) throws -> Void) {
        onAction(name) { (connection: Connection, _: [JSONValue], _: JSONObject) throws in
            try handler(connection)
        }
    }

    /// Registers an `async` handler for action `name` that takes no arguments.
    /// - Parameters:
    ///   - name: the action name.
    ///   - handler: called with the connection in a task of its own.
    public func onAction(_ name: String, _ handler: @escaping @Sendable (Connection) async throws -> Void) {
        onAction(name) { (connection: Connection, _: [JSONValue], _: JSONObject) async throws in
            try await handler(connection)
        }
    }

    /// Registers a handler for requests of `name` that take no arguments (any
    /// the request carries are ignored), its reply encoded from `Reply`:
    /// `registry.onRequest("id") { connection in "copter-1" }`.
    /// - Parameters:
    ///   - name: the requested value.
    ///   - handler: returns the reply.
    public func onRequest<Reply: Encodable & SendableMetatype>(
        _ name: String,
        _ handler: @escaping @Sendable (Connection) throws -> Reply
    ) {
        setRequest(name, .decoding(.sync { connection, _ in try JSONTextEncoder.encode(handler(connection)) }))
    }

    /// Registers an `async` handler for requests of `name` that take no
    /// arguments, its reply encoded from `Reply`.
    /// - Parameters:
    ///   - name: the requested value.
    ///   - handler: returns the reply.
    public func onRequest<Reply: Encodable & SendableMetatype>(
        _ name: String,
        _ handler: @escaping @Sendable (Connection) async throws -> Reply
    ) {
        setRequest(name, .decoding(.async { connection, _ in try await JSONTextEncoder.encode(handler(connection)) }))
    }
}
