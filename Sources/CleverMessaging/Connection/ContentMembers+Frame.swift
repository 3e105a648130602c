import NIOCore

extension ContentMembers {
    /// The members as a content object, for a frame handed whole to a handshake
    /// stage (members of other names were dropped by the parser).
    var jsonObject: JSONValue {
        var object: JSONObject = [:]
        if !args.isEmpty { object["args"] = .array(args) }
        let kwargs = kwargsObject
        if !kwargs.isEmpty { object["kwargs"] = .object(kwargs) }
        if let requestedValue { object["requested_value"] = requestedValue }
        if let requestID { object["request_id"] = requestID }
        if let valueText {
            object["value"] = ReplyPayload.value(ofCheckedText: valueText)
        } else if let value {
            object["value"] = value
        }
        if let error { object["error"] = error }
        return .object(object)
    }
}

extension ContentMembers {
    /// `kwargs` as values: parsed from ``kwargsText`` when they were kept as text.
    var kwargsObject: JSONObject {
        guard let kwargsText else { return kwargs }
        return Self.kwargsObject(kwargsText)
    }

    /// The `kwargs` object whose (checked) text is `kwargsText`, as values.
    static func kwargsObject(_ kwargsText: ByteBuffer) -> JSONObject {
        guard case .object(let object)? = kwargsText.withUnsafeReadableBytes({ try? JSONParser.parse($0) }) else { return [:] }
        return object
    }
}
