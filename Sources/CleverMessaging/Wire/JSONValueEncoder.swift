import OrderedCollections

/// Encodes `Encodable` values into ``JSONValue`` trees.
///
/// The mapping:
/// * `Bool` → ``JSONValue/bool(_:)``, `String` → ``JSONValue/string(_:)``,
///   nil → ``JSONValue/null``;
/// * every integer type → ``JSONValue/integer(_:)``, or
///   ``JSONValue/bigInteger(_:)`` for a value beyond `Int` (a large `UInt64`,
///   `Int128` or `UInt128`);
/// * `Double` and `Float` → ``JSONValue/double(_:)``, non-finite values
///   included (a `Float` is carried by its shortest decimal form, so `0.1`
///   as a `Float` becomes the double `0.1`);
/// * keyed containers → ``JSONValue/object(_:)`` with the keys in the order
///   they were first encoded (encoding a key again replaces its value in
///   place); unkeyed containers → ``JSONValue/array(_:)``;
/// * a ``JSONValue`` → itself.
///
/// A `nil` optional encoded with `encodeIfPresent` (as synthesized
/// conformances do) leaves its key out; one encoded with `encode` or
/// `encodeNil` is written as ``JSONValue/null``. A value that asks for no
/// container at all becomes an empty object, except at the top level, where
/// it is an error.
///
/// ```swift
/// struct Reply: Encodable { var sum: Int; var note: String? }
/// let value = try JSONValueEncoder().encode(Reply(sum: 3, note: nil))
/// // value == ["sum": 3]
/// ```
public struct JSONValueEncoder: Sendable {
    /// Contextual information handed to the encoded types as `Encoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable]

    /// Creates an encoder with an empty ``userInfo``.
    public init() {
        self.userInfo = [:]
    }

    /// Encodes `value` as a ``JSONValue``.
    /// - Parameter value: the value to encode.
    /// - Returns: the JSON value `value` encoded itself as.
    /// - Throws: `EncodingError.invalidValue` when `value` encodes nothing, uses
    ///   the containers inconsistently (for example a keyed and then an
    ///   unkeyed container at the same path), or encodes twice through a
    ///   single-value container; and any error `value` throws itself.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let context = JSONValueEncodingContext(userInfo: userInfo)
        let root = JSONValueEncodingSlot()
        let encoder = JSONValueEncoderImplementation(slot: root, codingPath: [], context: context)
        try value.encode(to: encoder)
        if let error = context.firstError { throw error }
        guard let result = root.resolvedIfEncoded() else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
        }
        return result
    }
}

// MARK: - Storage

/// State shared by all the encoders of one ``JSONValueEncoder/encode(_:)`` call.
private final class JSONValueEncodingContext {
    /// The user info handed to the encoded types.
    let userInfo: [CodingUserInfoKey: Any]
    /// The first misuse of the containers, reported when encoding ends (the
    /// container accessors cannot throw).
    var firstError: EncodingError?

    init(userInfo: [CodingUserInfoKey: any Sendable]) {
        self.userInfo = userInfo.mapValues { $0 as Any }
    }

    func record(_ error: EncodingError) {
        if firstError == nil { firstError = error }
    }
}

/// The place where one value is being encoded; containers fill it in place.
private final class JSONValueEncodingSlot {
    enum State {
        case empty
        case value(JSONValue)
        case object(JSONValueEncodingObject)
        case array(JSONValueEncodingArray)
    }

    var state: State

    init(_ state: State = .empty) {
        self.state = state
    }

    /// The finished value, or `nil` when nothing was encoded here.
    func resolvedIfEncoded() -> JSONValue? {
        switch state {
        case .empty: return nil
        case .value(let value): return value
        case .object(let object): return .object(object.members.mapValues { $0.resolved() })
        case .array(let array): return .array(array.elements.map { $0.resolved() })
        }
    }

    /// The finished value; an empty object when nothing was encoded here.
    func resolved() -> JSONValue {
        resolvedIfEncoded() ?? .object([:])
    }
}

/// An object being encoded.
private final class JSONValueEncodingObject {
    var members: OrderedDictionary<String, JSONValueEncodingSlot> = [:]
}

/// An array being encoded.
private final class JSONValueEncodingArray {
    var elements: [JSONValueEncodingSlot] = []
}

// MARK: - Encoder

/// The `Encoder` behind ``JSONValueEncoder``, writing into one slot.
final class JSONValueEncoderImplementation: Encoder {
    fileprivate let slot: JSONValueEncodingSlot
    fileprivate let context: JSONValueEncodingContext
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { context.userInfo }

    fileprivate init(slot: JSONValueEncodingSlot, codingPath: [any CodingKey], context: JSONValueEncodingContext) {
        self.slot = slot
        self.codingPath = codingPath
        self.context = context
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: JSONValueEncodingObject
        switch slot.state {
        case .empty:
            object = JSONValueEncodingObject()
            slot.state = .object(object)
        case .object(let existing):
            object = existing
        case .value, .array:
            context.record(misuse("a keyed container"))
            object = JSONValueEncodingObject()
        }
        return KeyedEncodingContainer(
            JSONValueKeyedEncodingContainer<Key>(encoder: self, object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: JSONValueEncodingArray
        switch slot.state {
        case .empty:
            array = JSONValueEncodingArray()
            slot.state = .array(array)
        case .array(let existing):
            array = existing
        case .value, .object:
            context.record(misuse("an unkeyed container"))
            array = JSONValueEncodingArray()
        }
        return JSONValueUnkeyedEncodingContainer(encoder: self, array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONValueSingleValueEncodingContainer(encoder: self)
    }

    /// Stores `value` as the value of this encoder's slot.
    /// - Throws: `EncodingError.invalidValue` when something was already encoded here.
    func encodeJSONValue(_ value: JSONValue) throws {
        guard case .empty = slot.state else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "A value was already encoded at this path; a single-value container takes one value."))
        }
        slot.state = .value(value)
    }

    /// Encodes `value` into `slot`, at `codingPath`.
    fileprivate func encode<T: Encodable>(
        _ value: T, into slot: JSONValueEncodingSlot, codingPath: [any CodingKey]
    ) throws {
        if let json = value as? JSONValue {
            slot.state = .value(json)
            return
        }
        try value.encode(to: JSONValueEncoderImplementation(slot: slot, codingPath: codingPath, context: context))
    }

    /// A child encoder writing into `slot` at `codingPath`.
    fileprivate func child(slot: JSONValueEncodingSlot, codingPath: [any CodingKey]) -> JSONValueEncoderImplementation {
        JSONValueEncoderImplementation(slot: slot, codingPath: codingPath, context: context)
    }

    private func misuse(_ what: String) -> EncodingError {
        let found: String
        switch slot.state {
        case .empty: found = "nothing"
        case .value: found = "a single value"
        case .object: found = "a keyed container"
        case .array: found = "an unkeyed container"
        }
        return EncodingError.invalidValue(
            JSONValue.null,
            EncodingError.Context(
                codingPath: codingPath,
                debugDescription: "Cannot encode \(what) where \(found) was already encoded."))
    }
}

// MARK: - Scalars

/// The JSON value of a `Float`: the double of its shortest decimal form, when
/// that converts back to the same `Float`, otherwise its exact double.
func jsonDouble(of value: Float) -> JSONValue {
    if value.isFinite, let decimal = Double(String(value)), Float(decimal) == value {
        return .double(decimal)
    }
    return .double(Double(value))
}

// MARK: - Keyed container

private struct JSONValueKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: JSONValueEncoderImplementation
    let object: JSONValueEncodingObject
    let codingPath: [any CodingKey]

    private func set(_ value: JSONValue, forKey key: Key) {
        object.members[key.stringValue] = JSONValueEncodingSlot(.value(value))
    }

    mutating func encodeNil(forKey key: Key) throws { set(.null, forKey: key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), forKey: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), forKey: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.double(value), forKey: key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(jsonDouble(of: value), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.integer(value), forKey: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128, forKey key: Key) throws { set(JSONValue(exactInteger: value), forKey: key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let slot = JSONValueEncodingSlot()
        try encoder.encode(value, into: slot, codingPath: codingPath + [key])
        object.members[key.stringValue] = slot
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested: JSONValueEncodingObject
        if let slot = object.members[key.stringValue], case .object(let existing) = slot.state {
            nested = existing
        } else {
            nested = JSONValueEncodingObject()
            object.members[key.stringValue] = JSONValueEncodingSlot(.object(nested))
        }
        return KeyedEncodingContainer(
            JSONValueKeyedEncodingContainer<NestedKey>(encoder: encoder, object: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested: JSONValueEncodingArray
        if let slot = object.members[key.stringValue], case .array(let existing) = slot.state {
            nested = existing
        } else {
            nested = JSONValueEncodingArray()
            object.members[key.stringValue] = JSONValueEncodingSlot(.array(nested))
        }
        return JSONValueUnkeyedEncodingContainer(encoder: encoder, array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(named: JSONValueCodingKey.super)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(named: key)
    }

    private func superEncoder(named key: any CodingKey) -> any Encoder {
        let slot = JSONValueEncodingSlot()
        object.members[key.stringValue] = slot
        return encoder.child(slot: slot, codingPath: codingPath + [key])
    }
}

// MARK: - Unkeyed container

private struct JSONValueUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: JSONValueEncoderImplementation
    let array: JSONValueEncodingArray
    let codingPath: [any CodingKey]

    var count: Int { array.elements.count }

    private func append(_ value: JSONValue) {
        array.elements.append(JSONValueEncodingSlot(.value(value)))
    }

    private var nextPath: [any CodingKey] { codingPath + [JSONValueCodingKey(index: count)] }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(.double(value)) }
    mutating func encode(_ value: Float) throws { append(jsonDouble(of: value)) }
    mutating func encode(_ value: Int) throws { append(.integer(value)) }
    mutating func encode(_ value: Int8) throws { append(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: Int16) throws { append(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: Int32) throws { append(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: Int64) throws { append(JSONValue(exactInteger: value)) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { append(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: UInt) throws { append(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: UInt8) throws { append(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: UInt16) throws { append(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: UInt32) throws { append(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: UInt64) throws { append(JSONValue(exactInteger: value)) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { append(JSONValue(exactInteger: value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let slot = JSONValueEncodingSlot()
        try encoder.encode(value, into: slot, codingPath: nextPath)
        array.elements.append(slot)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let path = nextPath
        let nested = JSONValueEncodingObject()
        array.elements.append(JSONValueEncodingSlot(.object(nested)))
        return KeyedEncodingContainer(
            JSONValueKeyedEncodingContainer<NestedKey>(encoder: encoder, object: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        let nested = JSONValueEncodingArray()
        array.elements.append(JSONValueEncodingSlot(.array(nested)))
        return JSONValueUnkeyedEncodingContainer(encoder: encoder, array: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let path = nextPath
        let slot = JSONValueEncodingSlot()
        array.elements.append(slot)
        return encoder.child(slot: slot, codingPath: path)
    }
}

// MARK: - Single-value container

private struct JSONValueSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: JSONValueEncoderImplementation

    var codingPath: [any CodingKey] { encoder.codingPath }

    private func store(_ value: JSONValue) throws { try encoder.encodeJSONValue(value) }

    mutating func encodeNil() throws { try store(.null) }
    mutating func encode(_ value: Bool) throws { try store(.bool(value)) }
    mutating func encode(_ value: String) throws { try store(.string(value)) }
    mutating func encode(_ value: Double) throws { try store(.double(value)) }
    mutating func encode(_ value: Float) throws { try store(jsonDouble(of: value)) }
    mutating func encode(_ value: Int) throws { try store(.integer(value)) }
    mutating func encode(_ value: Int8) throws { try store(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: Int16) throws { try store(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: Int32) throws { try store(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: Int64) throws { try store(JSONValue(exactInteger: value)) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { try store(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: UInt) throws { try store(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: UInt8) throws { try store(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: UInt16) throws { try store(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: UInt32) throws { try store(JSONValue(exactInteger: value)) }
    mutating func encode(_ value: UInt64) throws { try store(JSONValue(exactInteger: value)) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { try store(JSONValue(exactInteger: value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let json = value as? JSONValue {
            try store(json)
            return
        }
        guard case .empty = encoder.slot.state else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "A value was already encoded at this path; a single-value container takes one value."))
        }
        try encoder.encode(value, into: encoder.slot, codingPath: codingPath)
    }
}
