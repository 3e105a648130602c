/// Looks up a connection's handlers as frames are decoded (see
/// ``FrameDecoder/handlers``), so that the `kwargs` of a handler that decodes
/// them itself stay text; the connection then uses the handler found, without
/// looking it up again.
///
/// Nothing is looked up while the registry has no handler that decodes its
/// own arguments (a flag read without a lock): frames for tree handlers are
/// then decoded as if there were no lookup.
///
/// A class, so that the decoder holding it (which a connection copies in and
/// out once per read) retains one reference for it, not three.
final class HandlerLookup: Sendable {
    /// Whose handlers are looked up (`nil`: ``gate``'s own).
    private let connection: Connection?
    /// The registry whose flags say whether anything is looked up at all: a
    /// connection's registry as it was when its link came up. (A registry
    /// given to the connection later and with decoding handlers only costs
    /// them the text path: they are then given their arguments as values.)
    private let gate: HandlerRegistry
    /// The connection's count of requests waiting for a typed reply (`nil`: no connection).
    private let typedReplies: TypedReplies?

    /// The handlers of `connection`'s registry (as it is when each frame arrives).
    init(_ connection: Connection) {
        self.connection = connection
        self.gate = connection.registry
        self.typedReplies = connection.typedReplies
    }

    /// The handlers of `registry`.
    init(_ registry: HandlerRegistry) {
        self.connection = nil
        self.gate = registry
        self.typedReplies = nil
    }

    /// The registry to look handlers up in.
    private var registry: HandlerRegistry { connection?.registry ?? gate }

    /// What to look up for a frame with `header`, in the registry as it is now:
    /// `nil` when no handler of the frame's kind decodes its own arguments,
    /// and for a response unless its request asked for a typed reply.
    @inline(__always)
    func target(_ header: FrameHeader) -> Target? {
        switch header.messageType {
        case .message:
            guard gate.hasDecodingActionHandlers, let name = header.action else { return nil }
            return .action(name, registry)
        case .request:
            return gate.hasDecodingRequestHandlers ? .request(registry) : nil
        case .response:
            // One atomic load while no request waits for a typed reply.
            guard let typedReplies, typedReplies.anyWaiting else { return nil }
            return replyTarget(header)
        default:
            return nil
        }
    }

    /// ``Target/replyText`` when the request a response answers asked for a
    /// typed reply. Out of line, so that the read loop stays as small for other replies.
    @inline(never)
    private func replyTarget(_ header: FrameHeader) -> Target? {
        guard let connection, case .string(let id)? = header.requestID, let number = RequestID.number(id) else { return nil }
        return connection.state.withLockedValue { $0.pending.wantsReplyText(number: number) } ? .replyText : nil
    }

    /// A frame whose handler is looked up as it is decoded.
    enum Target {
        /// An action, with its name.
        case action(String, HandlerRegistry)
        /// A request (named by its `requested_value`).
        case request(HandlerRegistry)
        /// A response to a request that asked for a typed reply: its `value` stays text.
        case replyText
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
