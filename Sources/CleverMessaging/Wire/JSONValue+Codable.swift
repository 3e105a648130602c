import OrderedCollections

/// `JSONValue` encodes and decodes as the JSON value it is.
///
/// With ``JSONValueEncoder`` and ``JSONValueDecoder`` the value passes through
/// unchanged, whatever it holds (big integers, non-finite floats, key order).
///
/// With any other coder (for example Foundation's `JSONEncoder` and
/// `JSONDecoder`) the value is written through the standard containers:
/// ``null`` as nil, ``bool(_:)``, ``integer(_:)``, ``double(_:)`` and
/// ``string(_:)`` as the matching primitives, ``array(_:)`` through an unkeyed
/// container and ``object(_:)`` through a keyed container in key order.
/// Limits there are those of the other coder:
/// * a ``bigInteger(_:)`` is written as `Int128` or `UInt128` when it fits and
///   the coder supports those types, and otherwise fails with
///   `EncodingError.invalidValue`;
/// * a coder that cannot tell `1` from `1.0` decodes an integral float as
///   ``integer(_:)``;
/// * key order survives only as far as the other decoder reports its keys in
///   order;
/// * non-finite floats need the coder's own strategy for them.
extension JSONValue: Codable {
    /// Encodes this value into `encoder`.
    /// - Parameter encoder: the encoder to write to.
    /// - Throws: `EncodingError.invalidValue` when `encoder` cannot hold the
    ///   value (a ``bigInteger(_:)`` beyond 128 bits, or one its coder rejects).
    public func encode(to encoder: any Encoder) throws {
        if let bridge = encoder as? JSONValueEncoderImplementation {
            try bridge.encodeJSONValue(self)
            return
        }
        if let text = encoder as? JSONTextEncoderImplementation {
            try text.encodeJSONValue(self)
            return
        }
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .integer(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .bigInteger(let digits):
            var container = encoder.singleValueContainer()
            if #available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *) {
                if let value = Int128(digits) {
                    try container.encode(value)
                    return
                }
                if let value = UInt128(digits) {
                    try container.encode(value)
                    return
                }
            }
            throw EncodingError.invalidValue(
                self,
                EncodingError.Context(
                    codingPath: encoder.codingPath,
                    debugDescription: "The integer \(digits) does not fit in 128 bits."))
        case .double(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .object(let object):
            var container = encoder.container(keyedBy: JSONValueCodingKey.self)
            for (key, member) in object {
                try container.encode(member, forKey: JSONValueCodingKey(stringValue: key))
            }
        }
    }

    /// Decodes a value from `decoder`.
    ///
    /// With another decoder than ``JSONValueDecoder`` the kinds are tried in
    /// turn: nil, `Bool`, `Int`, `UInt64`, `Int128`, `UInt128`, `Double`,
    /// `String`, a keyed container, an unkeyed container.
    /// - Parameter decoder: the decoder to read from.
    /// - Throws: `DecodingError.dataCorrupted` when the value is none of those.
    public init(from decoder: any Decoder) throws {
        if let bridge = decoder as? JSONValueDecoderImplementation {
            self = bridge.value
            return
        }
        if let container = try? decoder.singleValueContainer() {
            if container.decodeNil() {
                self = .null
                return
            }
            if let value = try? container.decode(Bool.self) {
                self = .bool(value)
                return
            }
            if let value = try? container.decode(Int.self) {
                self = .integer(value)
                return
            }
            if let value = try? container.decode(UInt64.self) {
                self = JSONValue(exactInteger: value)
                return
            }
            if #available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *) {
                if let value = try? container.decode(Int128.self) {
                    self = JSONValue(exactInteger: value)
                    return
                }
                if let value = try? container.decode(UInt128.self) {
                    self = JSONValue(exactInteger: value)
                    return
                }
            }
            if let value = try? container.decode(Double.self) {
                self = .double(value)
                return
            }
            if let value = try? container.decode(String.self) {
                self = .string(value)
                return
            }
        }
        if let container = try? decoder.container(keyedBy: JSONValueCodingKey.self) {
            var object = JSONObject(minimumCapacity: container.allKeys.count)
            for key in container.allKeys {
                object[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
            }
            self = .object(object)
            return
        }
        if var container = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            if let count = container.count { elements.reserveCapacity(count) }
            while !container.isAtEnd {
                elements.append(try container.decode(JSONValue.self))
            }
            self = .array(elements)
            return
        }
        throw DecodingError.dataCorrupted(
            DecodingError.Context(
                codingPath: decoder.codingPath,
                debugDescription: "The value is neither null, a boolean, a number, a string, an array nor an object."))
    }
}

extension JSONValue {
    /// ``integer(_:)`` when `value` fits in `Int`, otherwise ``bigInteger(_:)``
    /// with its decimal digits.
    init<T: BinaryInteger>(exactInteger value: T) {
        if let small = Int(exactly: value) {
            self = .integer(small)
        } else {
            self = .bigInteger(String(value))
        }
    }

    /// A short description of the kind of this value, for error messages.
    var codableKindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer(let value): return "the integer \(value)"
        case .bigInteger(let digits): return "the integer \(digits)"
        case .double(let value): return "the float \(value)"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A coding key for the members and elements of a ``JSONValue``, and for the
/// coding paths the ``JSONValueEncoder`` and ``JSONValueDecoder`` report.
struct JSONValueCodingKey: CodingKey, Sendable {
    /// The key "super", used by `superEncoder()` and `superDecoder()`.
    static let `super` = JSONValueCodingKey(stringValue: "super")

    /// The member name, or `"Index n"` for an array element.
    let stringValue: String
    /// The array index, for an array element.
    let intValue: Int?

    /// A key naming an object member.
    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    /// A key for an array index.
    init(intValue: Int) {
        self.init(index: intValue)
    }

    /// A key for the array element at `index`.
    init(index: Int) {
        self.stringValue = "Index \(index)"
        self.intValue = index
    }
}
