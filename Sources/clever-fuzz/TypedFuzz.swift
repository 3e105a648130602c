import CleverMessaging

/// Differential fuzzing of ``JSONTextDecoder``: a text decodes as the probe
/// type straight from its bytes exactly when it decodes through the parsed
/// tree (``JSONParser`` then ``JSONValueDecoder``), and to the same value.
enum TypedFuzz {
    struct Probe: Codable {
        struct Nested: Codable {
            var x: Float?
            var y: [UInt8]?
            var z: [Nested]?
        }

        var a: Int?
        var b: Double?
        var c: String?
        var d: [Int64]?
        var e: JSONValue?
        var f: [String: Bool]?
        var g: Nested?
        var h: [[String]]?
    }

    static func run(_ input: UnsafeRawBufferPointer) {
        let limits = FuzzHarness.configuration.json
        let direct = Result { try JSONTextDecoder.decode(Probe.self, from: input, limits: limits) }
        let tree = Result { try JSONValueDecoder().decode(Probe.self, from: JSONParser.parse(input, limits: limits)) }
        switch (direct, tree) {
        case (.success(let a), .success(let b)):
            precondition(canonical(a) == canonical(b), "the text and the tree decode to different values")
        case (.failure(let a as JSONParsingError), .failure(let b as JSONParsingError)):
            precondition(a == b, "the text and the tree fail differently: \(a) vs \(b)")
        case (.failure(let a), .failure(let b)):
            precondition((a is JSONParsingError) == (b is JSONParsingError), "the text and the tree fail differently: \(a) vs \(b)")
        default:
            preconditionFailure("the text and the tree disagree: \(direct) vs \(tree)")
        }
    }

    /// The value's text with object keys sorted (a `Dictionary` keeps no order).
    static func canonical(_ probe: Probe) -> [UInt8] {
        func sorted(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let object):
                var result = JSONObject()
                for key in object.keys.sorted() { result[key] = sorted(object[key]!) }
                return .object(result)
            case .array(let elements): return .array(elements.map(sorted))
            default: return value
            }
        }
        guard let tree = try? JSONValueEncoder().encode(probe) else { return [] }
        return JSONWriter.bytes(of: sorted(tree))
    }
}
