import NIOCore

// The containers of ``JSONTextEncoderImplementation``: each writes its
// members or elements as they come, after checking that it is still the
// innermost open container (see ``JSONTextEncodingState/enter(_:)``).

// MARK: - Keyed container

struct JSONTextKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let state: JSONTextEncodingState
    /// The container's number (0: the value went over to the tree).
    let id: Int
    /// The length of the container's coding path.
    let depth: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }

    @inline(__always)
    private func begin(_ key: Key) throws {
        try state.beginMember(id, key: key.stringValue)
    }

    mutating func encodeNil(forKey key: Key) throws {
        try begin(key)
        state.buffer.writeStaticString("null")
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try begin(key)
        state.buffer.writeStaticString(value ? "true" : "false")
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        try begin(key)
        JSONWriter.writeString(value, into: &state.buffer)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        try begin(key)
        JSONWriter.writeDouble(value, into: &state.buffer)
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        try begin(key)
        state.write(float: value)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        try begin(key)
        JSONWriter.writeInteger(value, into: &state.buffer)
    }

    mutating func encode(_ value: Int8, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128, forKey key: Key) throws { try encodeInteger(value, forKey: key) }

    @inline(__always)
    private func encodeInteger<T: BinaryInteger>(_ value: T, forKey key: Key) throws {
        try begin(key)
        state.write(integer: value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try begin(key)
        try state.encodeChild(value, step: .key(key), depth: depth)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(
            JSONTextKeyedEncodingContainer<NestedKey>(state: state, id: nested(forKey: key, isObject: true), depth: depth + 1))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        JSONTextUnkeyedEncodingContainer(state: state, id: nested(forKey: key, isObject: false), depth: depth + 1)
    }

    /// Opens a container as the value of `key`; its number, or 0.
    private func nested(forKey key: Key, isObject: Bool) -> Int {
        do {
            try begin(key)
        } catch {
            return 0
        }
        let slot = state.nextID()
        state.pendingSlot = slot
        state.setPath(depth: depth, .key(key))
        return state.openContainer(slot: slot, isObject: isObject)
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(step: .key(JSONValueCodingKey.super))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(step: .key(key))
    }

    /// An encoder whose value the tree writes (the slot may be filled later).
    private func superEncoder(step: JSONTextPathStep) -> any Encoder {
        _ = state.abandon()
        return JSONTextEncoderImplementation(state: state, slot: 0, depth: depth)
    }
}

// MARK: - Unkeyed container

struct JSONTextUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let state: JSONTextEncodingState
    /// The container's number (0: the value went over to the tree).
    let id: Int
    /// The length of the container's coding path.
    let depth: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }
    var count: Int { state.count(of: id) }

    @inline(__always)
    private func begin() throws {
        _ = try state.beginElement(id)
    }

    mutating func encodeNil() throws {
        try begin()
        state.buffer.writeStaticString("null")
    }

    mutating func encode(_ value: Bool) throws {
        try begin()
        state.buffer.writeStaticString(value ? "true" : "false")
    }

    mutating func encode(_ value: String) throws {
        try begin()
        JSONWriter.writeString(value, into: &state.buffer)
    }

    mutating func encode(_ value: Double) throws {
        try begin()
        JSONWriter.writeDouble(value, into: &state.buffer)
    }

    mutating func encode(_ value: Float) throws {
        try begin()
        state.write(float: value)
    }

    mutating func encode(_ value: Int) throws {
        try begin()
        JSONWriter.writeInteger(value, into: &state.buffer)
    }

    mutating func encode(_ value: Int8) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int16) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int32) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int64) throws { try encodeInteger(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt8) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt16) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt32) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt64) throws { try encodeInteger(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { try encodeInteger(value) }

    @inline(__always)
    private func encodeInteger<T: BinaryInteger>(_ value: T) throws {
        try begin()
        state.write(integer: value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = try state.beginElement(id)
        try state.encodeChild(value, step: .index(index), depth: depth)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(JSONTextKeyedEncodingContainer<NestedKey>(state: state, id: nested(isObject: true), depth: depth + 1))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        JSONTextUnkeyedEncodingContainer(state: state, id: nested(isObject: false), depth: depth + 1)
    }

    /// Opens a container as the next element; its number, or 0.
    private func nested(isObject: Bool) -> Int {
        let index: Int
        do {
            index = try state.beginElement(id)
        } catch {
            return 0
        }
        let slot = state.nextID()
        state.pendingSlot = slot
        state.setPath(depth: depth, .index(index))
        return state.openContainer(slot: slot, isObject: isObject)
    }

    mutating func superEncoder() -> any Encoder {
        _ = state.abandon()
        return JSONTextEncoderImplementation(state: state, slot: 0, depth: depth)
    }
}

// MARK: - Single-value container

struct JSONTextSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: JSONTextEncoderImplementation

    var codingPath: [any CodingKey] { encoder.codingPath }
    private var state: JSONTextEncodingState { encoder.state }

    @inline(__always)
    private func begin() throws {
        try state.beginSingleValue(slot: encoder.slot)
    }

    mutating func encodeNil() throws {
        try begin()
        state.buffer.writeStaticString("null")
    }

    mutating func encode(_ value: Bool) throws {
        try begin()
        state.buffer.writeStaticString(value ? "true" : "false")
    }

    mutating func encode(_ value: String) throws {
        try begin()
        JSONWriter.writeString(value, into: &state.buffer)
    }

    mutating func encode(_ value: Double) throws {
        try begin()
        JSONWriter.writeDouble(value, into: &state.buffer)
    }

    mutating func encode(_ value: Float) throws {
        try begin()
        state.write(float: value)
    }

    mutating func encode(_ value: Int) throws {
        try begin()
        JSONWriter.writeInteger(value, into: &state.buffer)
    }

    mutating func encode(_ value: Int8) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int16) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int32) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int64) throws { try encodeInteger(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt8) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt16) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt32) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt64) throws { try encodeInteger(value) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { try encodeInteger(value) }

    @inline(__always)
    private func encodeInteger<T: BinaryInteger>(_ value: T) throws {
        try begin()
        state.write(integer: value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let json = value as? JSONValue {
            try encoder.encodeJSONValue(json)
            return
        }
        // The value fills this same slot.
        guard !state.abandoned, state.pendingSlot == encoder.slot else { throw state.abandon() }
        try value.encode(to: encoder)
    }
}
