import NIOCore

/// The value of a reply to a request that asked for a typed reply, as the
/// read loop hands it over: its JSON text when the frame kept it (checked,
/// never built into a tree), or the value already built.
package enum ReplyPayload: Sendable {
    /// The checked JSON text of the reply's `value`.
    case text(ByteBuffer)
    /// The reply's value, built (read before its request was known to be typed).
    case value(JSONValue)

    /// The reply decoded as `Reply`: from the text with ``JSONTextDecoder``,
    /// without a ``JSONValue`` tree, or from the value with ``JSONValueDecoder``.
    /// - Parameters:
    ///   - reply: the type to decode.
    ///   - name: the requested value (for the error).
    ///   - limits: the parser's limits (those the text was checked with).
    ///   - counts: where the way it was decoded is counted, if anywhere.
    /// - Throws: ``MessagingError/decoding(_:)`` when it does not decode.
    package func decode<Reply: Decodable>(
        as reply: Reply.Type,
        name: String,
        limits: JSONParsingLimits,
        counts: TypedReplies? = nil
    ) throws(MessagingError) -> Reply {
        switch self {
        case .value(let value):
            counts?.decoded(fromText: false)
            return try MessageArguments.decode(value, as: Reply.self, name: name)
        case .text(let text):
            counts?.decoded(fromText: true)
            do {
                return try text.withUnsafeReadableBytes { bytes in
                    try JSONTextDecoder.decode(Reply.self, from: bytes, limits: limits, validated: true)
                }
            } catch {
                throw MessageArguments.replyError(error, as: Reply.self, name: name)
            }
        }
    }

    /// The reply's value as a ``JSONValue`` (parsed from the text when it was kept).
    package var jsonValue: JSONValue {
        switch self {
        case .value(let value): return value
        case .text(let text): return Self.value(ofCheckedText: text)
        }
    }

    /// The value whose text `text` is, checked already (with the connection's
    /// limits, as part of its frame: no limit is needed again).
    package static func value(ofCheckedText text: ByteBuffer) -> JSONValue {
        let unbounded = JSONParsingLimits(maximumDepth: .max, maximumIntegerDigits: .max)
        return (try? text.withUnsafeReadableBytes { try JSONParser.parse($0, limits: unbounded) }) ?? .null
    }
}
