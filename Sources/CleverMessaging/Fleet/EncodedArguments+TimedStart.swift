import NIOCore

extension EncodedArguments {
    /// The kwargs of an `x-clever-start` request (see ``TimedStartRequest``)
    /// whose start's keyword arguments are the encoded object `self`, copied
    /// in as text: the bytes of ``TimedStartRequest/jsonObject`` for the values the text holds.
    /// - Parameters:
    ///   - id: the start's id.
    ///   - action: the action whose handler runs.
    ///   - at: when, on the drone's clock, as Unix seconds.
    func timedStartRequest(id: String, action: String, at: Double) -> EncodedArguments {
        var out = ByteBuffer()
        text.withUnsafeReadableBytes { kwargs in
            let maximum = 48 + JSONWriter.maximumLength(of: .string(id)) + JSONWriter.maximumLength(of: .string(action))
                + JSONWriter.maximumLength(of: .double(at)) + kwargs.count
            out.writeJSONText(estimate: maximum, maximumLength: { maximum }) { output in
                output.write("{\"id\": ")
                JSONWriter.writeString(id, into: &output)
                output.write(", \"action\": ")
                JSONWriter.writeString(action, into: &output)
                output.write(", \"kwargs\": ")
                output.write(bytes: kwargs)
                output.write(", \"at\": ")
                JSONWriter.write(.double(at), into: &output)
                output.write(byte: UInt8(ascii: "}"))
            }
        }
        return EncodedArguments(text: out, isObject: true)
    }

    /// The encoded object `self` with a member `key` of string value `value`
    /// added at its end (as a reference drone's `start` gets its `time`), or
    /// `nil` when the text may hold a member `key` already (whose value the
    /// added one would replace in place: the caller does that on values).
    /// - Precondition: `self` is an object, and `key` needs no escaping.
    func adding(_ key: String, string value: String) -> EncodedArguments? {
        let marker = Array("\"\(key)\": ".utf8)
        let (holdsKey, isEmpty) = text.withUnsafeReadableBytes { bytes -> (Bool, Bool) in
            let found = bytes.count >= marker.count && (0...(bytes.count - marker.count)).contains { start in
                bytes[start] == marker[0] && marker.indices.allSatisfy { bytes[start + $0] == marker[$0] }
            }
            return (found, bytes.count == 2)
        }
        guard isObject, !holdsKey, text.getInteger(at: text.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "}") else { return nil }
        var out = text
        // Drops the closing brace, then appends the member and the brace again.
        out.moveWriterIndex(to: out.writerIndex - 1)
        if !isEmpty { out.writeStaticString(", ") }
        out.writeBytes(marker)
        JSONWriter.write(.string(value), into: &out)
        out.writeStaticString("}")
        return EncodedArguments(text: out, isObject: true)
    }
}
