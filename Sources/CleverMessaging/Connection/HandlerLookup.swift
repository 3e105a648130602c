/// Looks up a connection's handlers as frames are decoded (see
/// ``FrameDecoder/handlers``), so that the `kwargs` of a handler that decodes
/// them itself stay text; the connection then uses the handler found, without
/// looking it up again.
struct HandlerLookup: Sendable {
    /// The handler of an action.
    let action: @Sendable (String) -> HandlerRegistry.Action?
    /// The handler of a request; `nil` for the requests the library answers
    /// itself (`x-clever-…`, `filetransfer`), which read their `kwargs` as values.
    let request: @Sendable (String) -> HandlerRegistry.Request?

    /// The handlers of `connection`'s registry (as it is when each frame arrives).
    init(_ connection: Connection) {
        action = { [connection] name in connection.registry.action(name) }
        request = { [connection] name in
            if name.utf8.first == UInt8(ascii: "x") && name.hasPrefix("x-clever-") || name == Frame.fileTransferAction { return nil }
            return connection.registry.request(name)
        }
    }

    /// Lookups by the given functions.
    init(
        action: @escaping @Sendable (String) -> HandlerRegistry.Action?,
        request: @escaping @Sendable (String) -> HandlerRegistry.Request?
    ) {
        self.action = action
        self.request = request
    }
}
