/// Looks up a connection's handlers as frames are decoded (see
/// ``FrameDecoder/handlers``), so that the `kwargs` of a handler that decodes
/// them itself stay text; the connection then uses the handler found, without
/// looking it up again.
///
/// Nothing is looked up while the registry has no handler that decodes its
/// own arguments (a flag read without a lock): frames for tree handlers are
/// then decoded as if there were no lookup.
struct HandlerLookup: Sendable {
    /// Whose handlers are looked up (`nil`: ``gate``'s own).
    private let connection: Connection?
    /// The registry whose flags say whether anything is looked up at all: a
    /// connection's registry as it was when its link came up. (A registry
    /// given to the connection later and with decoding handlers only costs
    /// them the text path: they are then given their arguments as values.)
    private let gate: HandlerRegistry

    /// The handlers of `connection`'s registry (as it is when each frame arrives).
    init(_ connection: Connection) {
        self.connection = connection
        self.gate = connection.registry
    }

    /// The handlers of `registry`.
    init(_ registry: HandlerRegistry) {
        self.connection = nil
        self.gate = registry
    }

    /// The registry to look handlers up in.
    private var registry: HandlerRegistry { connection?.registry ?? gate }

    /// What to look up for a frame with `header`, in the registry as it is now:
    /// `nil` when no handler of the frame's kind decodes its own arguments.
    @inline(__always)
    func target(_ header: FrameHeader) -> Target? {
        switch header.messageType {
        case .message:
            guard gate.hasDecodingActionHandlers, let name = header.action else { return nil }
            return .action(name, registry)
        case .request:
            return gate.hasDecodingRequestHandlers ? .request(registry) : nil
        default:
            return nil
        }
    }

    /// A frame whose handler is looked up as it is decoded.
    enum Target {
        /// An action, with its name.
        case action(String, HandlerRegistry)
        /// A request (named by its `requested_value`).
        case request(HandlerRegistry)
    }
}

extension HandlerRegistry {
    /// The handler of a request that the decoder looks up: `nil` for the requests
    /// the library answers itself (`x-clever-…`, `filetransfer`), which read their
    /// `kwargs` as values.
    @inline(__always)
    func decodedRequest(_ name: String) -> Request? {
        if name.utf8.first == UInt8(ascii: "x") && name.hasPrefix("x-clever-") || name == Frame.fileTransferAction { return nil }
        return request(name)
    }
}
