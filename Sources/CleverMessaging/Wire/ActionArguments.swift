import NIOCore

/// The arguments of an action or request: as JSON values, or already encoded
/// to JSON text (from an `Encodable`, without a ``JSONValue`` tree).
package enum ActionArguments: Sendable {
    /// Positional and keyword arguments as values.
    case values(args: [JSONValue], kwargs: JSONObject)
    /// The JSON text of an object (the keyword arguments) or an array (the positional ones).
    case encoded(EncodedArguments)

    /// Writes the content of an action (`{"args": [...], "kwargs": {...}}`).
    @inline(__always)
    func writeActionContent(into output: inout JSONOutput) {
        switch self {
        case .values(let args, let kwargs):
            output.write("{\"args\": ")
            JSONWriter.write(.array(args), into: &output)
            output.write(", \"kwargs\": ")
            JSONWriter.writeObject(kwargs, into: &output)
            output.write(byte: UInt8(ascii: "}"))
        case .encoded(let encoded):
            encoded.writeActionContent(into: &output)
        }
    }

    /// An upper bound of the length of the action content.
    func maximumActionContentLength() -> Int {
        switch self {
        case .values(let args, let kwargs):
            return 24 + JSONWriter.maximumLength(of: .array(args)) + JSONWriter.maximumLength(of: kwargs)
        case .encoded(let encoded):
            return 24 + encoded.text.readableBytes
        }
    }
}

/// The JSON text of a message's arguments, encoded straight from an
/// `Encodable` (see ``JSONTextEncoder``): an object gives the keyword
/// arguments, an array the positional ones.
package struct EncodedArguments: Sendable {
    /// The text of the object or array.
    package let text: ByteBuffer
    /// Whether it is an object (keyword arguments) rather than an array.
    package let isObject: Bool

    /// Encodes `arguments`.
    /// - Throws: ``MessagingError/decoding(_:)`` when they encode to neither an
    ///   object nor an array, or encoding fails.
    package init(_ arguments: some Encodable, of name: String) throws(MessagingError) {
        let text: ByteBuffer
        do {
            text = try JSONTextEncoder.encode(arguments)
        } catch {
            throw .decoding("cannot encode arguments of \(name): \(error)")
        }
        switch text.getInteger(at: text.readerIndex, as: UInt8.self) {
        case UInt8(ascii: "{"): isObject = true
        case UInt8(ascii: "["): isObject = false
        default: throw .decoding("arguments of \(name) must encode to a JSON object or array")
        }
        self.text = text
    }

    /// Arguments whose JSON text is `text`, made by this library (a JSON
    /// object when `isObject`, else an array; not checked).
    package init(text: ByteBuffer, isObject: Bool) {
        self.text = text
        self.isObject = isObject
    }

    /// Encodes `arguments`, which must make an object (keyword arguments).
    /// - Throws: ``MessagingError/decoding(_:)`` when they encode to something else, or encoding fails.
    package init(keywords arguments: some Encodable, of name: String) throws(MessagingError) {
        try self.init(arguments, of: name)
        guard isObject else { throw .decoding("arguments of \(name) must encode to a JSON object") }
    }

    /// Writes the content of an action (`{"args": [...], "kwargs": {...}}`).
    @inline(__always)
    func writeActionContent(into output: inout JSONOutput) {
        if isObject {
            output.write("{\"args\": [], \"kwargs\": ")
            text.withUnsafeReadableBytes { output.write(bytes: $0) }
            output.write(byte: UInt8(ascii: "}"))
        } else {
            output.write("{\"args\": ")
            text.withUnsafeReadableBytes { output.write(bytes: $0) }
            output.write(", \"kwargs\": {}}")
        }
    }
}
