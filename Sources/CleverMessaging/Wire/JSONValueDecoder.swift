import OrderedCollections

/// Decodes `Decodable` values from ``JSONValue`` trees.
///
/// The mapping is the inverse of ``JSONValueEncoder``'s, with conversions
/// between the kinds of number:
/// * an integer type reads ``JSONValue/integer(_:)`` and
///   ``JSONValue/bigInteger(_:)`` when the value is in its range, and
///   ``JSONValue/double(_:)`` when the float is integral and in range;
/// * `Double` reads ``JSONValue/double(_:)``, ``JSONValue/integer(_:)`` and
///   ``JSONValue/bigInteger(_:)`` (rounded to the nearest double when beyond
///   2^53); `Float` the same, when the value is within `Float`'s range;
/// * `Bool` reads only ``JSONValue/bool(_:)``, `String` only
///   ``JSONValue/string(_:)``;
/// * keyed containers read ``JSONValue/object(_:)``, unkeyed containers
///   ``JSONValue/array(_:)``; a ``JSONValue`` reads the value as it is.
///
/// Errors are `DecodingError`s whose context carries the coding path of the
/// offending value:
/// * `typeMismatch` when the value is of another kind (including a float
///   that is not integral, or not finite, read as an integer);
/// * `valueNotFound` when the value is ``JSONValue/null`` where something
///   else is required, or an unkeyed container is at its end;
/// * `keyNotFound` when an object has no member for a required key (the path
///   is that of the object);
/// * `dataCorrupted` when a number is out of the range of the requested type.
///
/// ```swift
/// struct Arguments: Decodable { var a: Int; var b: Double }
/// let arguments = try JSONValueDecoder().decode(Arguments.self, from: ["a": 1, "b": 2])
/// // arguments.b == 2.0
/// ```
public struct JSONValueDecoder: Sendable {
    /// Contextual information handed to the decoded types as `Decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable]

    /// Creates a decoder with an empty ``userInfo``.
    public init() {
        self.userInfo = [:]
    }

    /// Decodes a value of type `type` from `value`.
    /// - Parameters:
    ///   - type: the type to decode.
    ///   - value: the JSON value to decode it from.
    /// - Returns: the decoded value.
    /// - Throws: a `DecodingError` when `value` does not have the shape `type`
    ///   expects, or any error `type` throws itself.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        let decoder = JSONValueDecoderImplementation(
            value: value, codingPath: [], userInfo: userInfo.mapValues { $0 as Any })
        return try decoder.decodeValue(type, from: value, codingPath: [])
    }
}

// MARK: - Decoder

/// The `Decoder` behind ``JSONValueDecoder``, reading one value.
final class JSONValueDecoderImplementation: Decoder {
    /// The value this decoder reads.
    let value: JSONValue
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    init(value: JSONValue, codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) {
        self.value = value
        self.codingPath = codingPath
        self.userInfo = userInfo
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else {
            throw mismatch(KeyedDecodingContainer<Key>.self, expected: "an object", found: value, at: codingPath)
        }
        return KeyedDecodingContainer(
            JSONValueKeyedDecodingContainer<Key>(decoder: self, object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw mismatch((any UnkeyedDecodingContainer).self, expected: "an array", found: value, at: codingPath)
        }
        return JSONValueUnkeyedDecodingContainer(decoder: self, elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        JSONValueSingleValueDecodingContainer(decoder: self)
    }

    /// A decoder for `value` at `codingPath`, sharing this one's user info.
    fileprivate func child(value: JSONValue, codingPath: [any CodingKey]) -> JSONValueDecoderImplementation {
        JSONValueDecoderImplementation(value: value, codingPath: codingPath, userInfo: userInfo)
    }

    /// Decodes `type` from `value` at `codingPath`.
    fileprivate func decodeValue<T: Decodable>(
        _ type: T.Type, from value: JSONValue, codingPath: [any CodingKey]
    ) throws -> T {
        if T.self == JSONValue.self, let json = value as? T { return json }
        return try T(from: child(value: value, codingPath: codingPath))
    }
}

// MARK: - Scalars

/// The error for `value` being of another kind than `type` needs:
/// `valueNotFound` for null, otherwise `typeMismatch`.
func mismatch(
    _ type: Any.Type, expected: String, found value: JSONValue, at codingPath: [any CodingKey]
) -> DecodingError {
    if case .null = value {
        return DecodingError.valueNotFound(
            type, DecodingError.Context(codingPath: codingPath, debugDescription: "Expected \(expected) but found null."))
    }
    return DecodingError.typeMismatch(
        type,
        DecodingError.Context(
            codingPath: codingPath, debugDescription: "Expected \(expected) but found \(value.codableKindDescription)."))
}

func unboxBool(_ value: JSONValue, at codingPath: [any CodingKey]) throws -> Bool {
    guard case .bool(let bool) = value else {
        throw mismatch(Bool.self, expected: "a boolean", found: value, at: codingPath)
    }
    return bool
}

func unboxString(_ value: JSONValue, at codingPath: [any CodingKey]) throws -> String {
    guard case .string(let string) = value else {
        throw mismatch(String.self, expected: "a string", found: value, at: codingPath)
    }
    return string
}

func unboxInteger<T: FixedWidthInteger>(
    _ type: T.Type, _ value: JSONValue, at codingPath: [any CodingKey]
) throws -> T {
    switch value {
    case .integer(let integer):
        if let result = T(exactly: integer) { return result }
    case .bigInteger(let digits):
        if let result = T(digits, radix: 10) { return result }
    case .double(let double):
        guard double.isFinite, double.rounded(.towardZero) == double else {
            throw DecodingError.typeMismatch(
                type,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription:
                        "Expected an integer for \(T.self) but found the float \(double), which is not integral."))
        }
        if let result = T(exactly: double) { return result }
    default:
        throw mismatch(type, expected: "an integer for \(T.self)", found: value, at: codingPath)
    }
    throw DecodingError.dataCorrupted(
        DecodingError.Context(
            codingPath: codingPath,
            debugDescription: "The number \(value.numberText) does not fit in \(T.self)."))
}

func unboxDouble(_ value: JSONValue, at codingPath: [any CodingKey]) throws -> Double {
    switch value {
    case .double(let double):
        return double
    case .integer(let integer):
        return Double(integer)
    case .bigInteger(let digits):
        if let double = Double(digits), double.isFinite { return double }
        throw DecodingError.dataCorrupted(
            DecodingError.Context(
                codingPath: codingPath, debugDescription: "The number \(digits) does not fit in Double."))
    default:
        throw mismatch(Double.self, expected: "a number for Double", found: value, at: codingPath)
    }
}

func unboxFloat(_ value: JSONValue, at codingPath: [any CodingKey]) throws -> Float {
    let double: Double
    do {
        double = try unboxDouble(value, at: codingPath)
    } catch DecodingError.typeMismatch(_, let context) {
        throw DecodingError.typeMismatch(
            Float.self,
            DecodingError.Context(
                codingPath: context.codingPath,
                debugDescription: "Expected a number for Float but found \(value.codableKindDescription)."))
    } catch DecodingError.valueNotFound(_, let context) {
        throw DecodingError.valueNotFound(Float.self, context)
    }
    if double.isFinite, double.magnitude > Double(Float.greatestFiniteMagnitude) {
        throw DecodingError.dataCorrupted(
            DecodingError.Context(
                codingPath: codingPath, debugDescription: "The number \(value.numberText) does not fit in Float."))
    }
    return Float(double)
}

extension JSONValue {
    /// The number as written in error messages.
    fileprivate var numberText: String {
        switch self {
        case .integer(let integer): return String(integer)
        case .bigInteger(let digits): return digits
        case .double(let double): return String(double)
        default: return codableKindDescription
        }
    }
}

// MARK: - Keyed container

private struct JSONValueKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: JSONValueDecoderImplementation
    let object: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let member = object[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "No value associated with key \(key.stringValue.debugDescription)."))
        }
        return member
    }

    private func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).isNull }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try unboxBool(member(key), at: path(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try unboxString(member(key), at: path(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try unboxDouble(member(key), at: path(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try unboxFloat(member(key), at: path(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try unboxInteger(type, member(key), at: path(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try unboxInteger(type, member(key), at: path(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try unboxInteger(type, member(key), at: path(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try unboxInteger(type, member(key), at: path(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try unboxInteger(type, member(key), at: path(key)) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 {
        try unboxInteger(type, member(key), at: path(key))
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try unboxInteger(type, member(key), at: path(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try unboxInteger(type, member(key), at: path(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try unboxInteger(type, member(key), at: path(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try unboxInteger(type, member(key), at: path(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try unboxInteger(type, member(key), at: path(key)) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 {
        try unboxInteger(type, member(key), at: path(key))
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.decodeValue(type, from: member(key), codingPath: path(key))
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.child(value: member(key), codingPath: path(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(value: member(key), codingPath: path(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = JSONValueCodingKey.super
        return decoder.child(value: object[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.child(value: object[key.stringValue] ?? .null, codingPath: path(key))
    }
}

// MARK: - Unkeyed container

private struct JSONValueUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: JSONValueDecoderImplementation
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(decoder: JSONValueDecoderImplementation, elements: [JSONValue], codingPath: [any CodingKey]) {
        self.decoder = decoder
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var currentPath: [any CodingKey] { codingPath + [JSONValueCodingKey(index: currentIndex)] }

    /// Decodes the current element with `body` and moves past it when that succeeds.
    private mutating func next<T>(
        _ type: T.Type, _ body: (JSONValue, [any CodingKey]) throws -> T
    ) throws -> T {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                DecodingError.Context(
                    codingPath: currentPath,
                    debugDescription: "Expected \(type) but the unkeyed container is at its end (\(elements.count) elements)."))
        }
        let result = try body(elements[currentIndex], currentPath)
        currentIndex += 1
        return result
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any?.self,
                DecodingError.Context(
                    codingPath: currentPath,
                    debugDescription: "Expected null but the unkeyed container is at its end (\(elements.count) elements)."))
        }
        guard elements[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type, unboxBool) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type, unboxString) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type, unboxDouble) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type, unboxFloat) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) { try unboxInteger(type, $0, at: $1) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) { try unboxInteger(type, $0, at: $1) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) { try unboxInteger(type, $0, at: $1) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) { try unboxInteger(type, $0, at: $1) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) { try unboxInteger(type, $0, at: $1) } }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try next(type) { try unboxInteger(type, $0, at: $1) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) { try unboxInteger(type, $0, at: $1) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) { try unboxInteger(type, $0, at: $1) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) { try unboxInteger(type, $0, at: $1) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) { try unboxInteger(type, $0, at: $1) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) { try unboxInteger(type, $0, at: $1) } }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try next(type) { try unboxInteger(type, $0, at: $1) } }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = self.decoder
        return try next(type) { try decoder.decodeValue(type, from: $0, codingPath: $1) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let decoder = self.decoder
        return try next(KeyedDecodingContainer<NestedKey>.self) {
            try decoder.child(value: $0, codingPath: $1).container(keyedBy: type)
        }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let decoder = self.decoder
        return try next((any UnkeyedDecodingContainer).self) {
            try decoder.child(value: $0, codingPath: $1).unkeyedContainer()
        }
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = self.decoder
        return try next((any Decoder).self) { decoder.child(value: $0, codingPath: $1) }
    }
}

// MARK: - Single-value container

private struct JSONValueSingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: JSONValueDecoderImplementation

    var codingPath: [any CodingKey] { decoder.codingPath }
    private var value: JSONValue { decoder.value }

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try unboxBool(value, at: codingPath) }
    func decode(_ type: String.Type) throws -> String { try unboxString(value, at: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try unboxDouble(value, at: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try unboxFloat(value, at: codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try unboxInteger(type, value, at: codingPath) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type) throws -> Int128 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try unboxInteger(type, value, at: codingPath) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type) throws -> UInt128 { try unboxInteger(type, value, at: codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.decodeValue(type, from: value, codingPath: codingPath)
    }
}
