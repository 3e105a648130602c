import NIOCore

/// The `kwargs` of an action, as a handler that decodes them gets them.
enum ActionKeywordArguments: Sendable {
    /// The text of the `kwargs` object, checked already (kept from the frame).
    case text(ByteBuffer)
    /// The `kwargs` as values.
    case values(JSONObject)

    /// The arguments decoded as `Arguments`: straight from the text, or from the values.
    /// - Parameter limits: the limits the text was checked with.
    func decode<Arguments: Decodable>(_ type: Arguments.Type, limits: JSONParsingLimits) throws -> Arguments {
        switch self {
        case .text(let text):
            return try text.withUnsafeReadableBytes { bytes in
                try JSONTextDecoder.decode(Arguments.self, from: bytes, limits: limits, validated: true)
            }
        case .values(let kwargs):
            return try JSONValueDecoder().decode(Arguments.self, from: .object(kwargs))
        }
    }
}

/// A handler for an action whose `kwargs` it decodes into its own type
/// (`HandlerRegistry.onAction(_:decoding:_:)`).
struct DecodingActionHandler: Sendable {
    /// Decodes the arguments and runs the handler (a synchronous one at once,
    /// an `async` one in a task of its own, which logs its own failure).
    /// Throws when the arguments do not decode or a synchronous handler fails.
    let run: @Sendable (Connection, _ action: String, ActionKeywordArguments) throws -> Void

    /// A synchronous handler of `Arguments`.
    static func sync<Arguments: Decodable & SendableMetatype>(
        _ type: Arguments.Type,
        _ handler: @escaping @Sendable (Connection, Arguments) throws -> Void
    ) -> DecodingActionHandler {
        DecodingActionHandler { connection, _, kwargs in
            try handler(connection, kwargs.decode(Arguments.self, limits: connection.configuration.codec.json))
        }
    }

    /// An `async` handler of `Arguments`, decoded and run in a task of its own.
    static func async<Arguments: Decodable & SendableMetatype>(
        _ type: Arguments.Type,
        _ handler: @escaping @Sendable (Connection, Arguments) async throws -> Void
    ) -> DecodingActionHandler {
        DecodingActionHandler { connection, action, kwargs in
            connection.runHandlerTask {
                do {
                    try await handler(connection, kwargs.decode(Arguments.self, limits: connection.configuration.codec.json))
                } catch {
                    connection.logger.warning("handler for action \"\(action)\" failed: \(error)", metadata: connection.linkMetadata)
                }
            }
        }
    }
}
