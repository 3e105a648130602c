import NIOCore

/// A handler for requests whose `kwargs` it decodes into its own type and
/// whose reply it encodes from its own type, straight to and from the text
/// (`HandlerRegistry.onRequest(_:decoding:_:)`).
enum DecodingRequestHandler: Sendable {
    /// Decodes, answers and encodes the reply's text at once (on the event loop).
    case sync(@Sendable (Connection, ActionKeywordArguments) throws -> ByteBuffer)
    /// Decodes, answers and encodes the reply's text in a task of its own.
    case async(@Sendable (Connection, ActionKeywordArguments) async throws -> ByteBuffer)

    /// A synchronous handler from `Arguments` to `Reply`.
    static func sync<Arguments: Decodable & SendableMetatype, Reply: Encodable & SendableMetatype>(
        _ type: Arguments.Type,
        _ handler: @escaping @Sendable (Connection, Arguments) throws -> Reply
    ) -> DecodingRequestHandler {
        .sync { connection, kwargs in
            try JSONTextEncoder.encode(handler(connection, kwargs.decode(Arguments.self, limits: connection.configuration.codec.json)))
        }
    }

    /// An `async` handler from `Arguments` to `Reply`.
    static func async<Arguments: Decodable & SendableMetatype, Reply: Encodable & SendableMetatype>(
        _ type: Arguments.Type,
        _ handler: @escaping @Sendable (Connection, Arguments) async throws -> Reply
    ) -> DecodingRequestHandler {
        .async { connection, kwargs in
            try await JSONTextEncoder.encode(handler(connection, kwargs.decode(Arguments.self, limits: connection.configuration.codec.json)))
        }
    }
}

extension Connection {
    /// Runs a request handler that decodes its arguments, and queues its reply
    /// (or the error reply, for peers that understand them). Runs on the event loop.
    func answer(_ requestedValue: String, id: JSONValue, with handler: DecodingRequestHandler, _ kwargs: ActionKeywordArguments, wantsErrors: Bool) {
        switch handler {
        case .sync(let run):
            do {
                reply(to: requestedValue, id: id, valueText: try run(self, kwargs))
            } catch {
                handlerFailed(requestedValue, id: id, error, wantsErrors: wantsErrors)
            }
        case .async(let run):
            runHandlerTask {
                do {
                    self.reply(to: requestedValue, id: id, valueText: try await run(self, kwargs))
                } catch {
                    self.handlerFailed(requestedValue, id: id, error, wantsErrors: wantsErrors)
                }
            }
        }
    }

    /// Queues a value reply whose value is the JSON text `valueText`.
    func reply(to requestedValue: String, id: JSONValue, valueText: ByteBuffer) {
        do {
            try enqueueReply { writer, out throws(FrameEncodingError) in
                try writer.writeResponse(requestedValue, id: id, valueText: valueText, into: &out)
            }
        } catch {
            // The link is gone (or the connection closed) while the handler ran: the peer asks again.
            logger.debug("cannot reply to \(requestedValue) request \(id): \(error)", metadata: linkMetadata)
        }
    }
}
