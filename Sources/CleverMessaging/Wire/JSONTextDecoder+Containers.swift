// The containers of ``JSONTextDecoderImplementation``.

// MARK: - Keyed container

struct JSONTextKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let state: JSONTextDecodingState
    /// Where the object's members are in the state's ``JSONTextDecodingState/members``.
    let members: Range<Int>
    /// The length of the container's coding path.
    let depth: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }

    var allKeys: [Key] {
        var seen = Set<String>()
        var keys: [Key] = []
        for member in state.members[members] {
            let name = state.key(of: member)
            if seen.insert(name).inserted, let key = Key(stringValue: name) { keys.append(key) }
        }
        return keys
    }

    /// Where the (last) value of `key` starts, if the object has it.
    @inline(__always)
    private func offset(of key: Key) -> Int? {
        let name = key.stringValue
        var i = members.upperBound - 1
        while i >= members.lowerBound {
            if state.member(state.members[i], hasKey: name) { return state.members[i].valueOffset }
            i -= 1
        }
        return nil
    }

    func contains(_ key: Key) -> Bool { offset(of: key) != nil }

    private func memberOffset(_ key: Key) throws -> Int {
        guard let offset = offset(of: key) else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "No value associated with key \(key.stringValue.debugDescription)."))
        }
        return offset
    }

    @inline(__always)
    private func scalar(_ key: Key) throws -> JSONValue {
        try state.value(at: memberOffset(key))
    }

    /// Converts the scalar of `key` with `convert`, whose error paths end in `key`.
    @inline(__always)
    private func decodeScalar<T>(_ key: Key, _ convert: (JSONValue, () -> [any CodingKey]) throws -> T) throws -> T {
        let value = try scalar(key)
        return try convert(value) { state.codingPath(depth: depth, .key(key)) }
    }

    func decodeNil(forKey key: Key) throws -> Bool { state.byte(at: try memberOffset(key)) == UInt8(ascii: "n") }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeScalar(key, JSONTextScalar.bool) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeScalar(key, JSONTextScalar.string) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeScalar(key, JSONTextScalar.double) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeScalar(key, JSONTextScalar.float) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try decodeScalar(key) { try JSONTextScalar.integer(type, $0, $1) } }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try JSONTextDecoderImplementation.decode(type, state: state, offset: memberOffset(key), depth: depth, step: .key(key))
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try child(memberOffset(key), key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(memberOffset(key), key).unkeyedContainer()
    }

    /// A decoder for the value at `offset`, the member `key`.
    private func child(_ offset: Int, _ key: any CodingKey) -> JSONTextDecoderImplementation {
        state.setPath(depth: depth, .key(key))
        return JSONTextDecoderImplementation(state: state, offset: offset, depth: depth + 1)
    }

    func superDecoder() throws -> any Decoder {
        try superDecoder(named: JSONValueCodingKey.super)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try superDecoder(named: key)
    }

    /// The member `key`, or null when there is none (as in the tree decoder).
    private func superDecoder(named key: any CodingKey) throws -> any Decoder {
        let name = key.stringValue
        guard let member = state.members[members].last(where: { state.member($0, hasKey: name) }) else {
            // No such member: a decoder of `null`.
            state.setPath(depth: depth, .key(key))
            return try JSONTextDecodingNull.decoder(userInfo: state.userInfo, codingPath: state.codingPath(depth: depth + 1))
        }
        return child(member.valueOffset, key)
    }
}

/// A decoder of `null`, for a `superDecoder` whose key is missing.
enum JSONTextDecodingNull {
    static func decoder(userInfo: [CodingUserInfoKey: Any], codingPath: [any CodingKey]) throws -> any Decoder {
        JSONValueDecoderImplementation(value: .null, codingPath: codingPath, userInfo: userInfo)
    }
}

// MARK: - Unkeyed container

struct JSONTextUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let state: JSONTextDecodingState
    /// Where the array's element offsets are in the state's ``JSONTextDecodingState/elements``.
    let elements: Range<Int>
    /// The length of the container's coding path.
    let depth: Int
    private(set) var currentIndex = 0

    init(state: JSONTextDecodingState, elements: Range<Int>, depth: Int) {
        self.state = state
        self.elements = elements
        self.depth = depth
    }

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    /// The offset of element `index`.
    @inline(__always)
    private func offset(_ index: Int) -> Int { state.elements[elements.lowerBound + index] }

    private var currentPath: [any CodingKey] { state.codingPath(depth: depth, .index(currentIndex)) }

    /// The offset of the current element.
    private func current<T>(_ type: T.Type) throws -> Int {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                DecodingError.Context(
                    codingPath: currentPath,
                    debugDescription: "Expected \(type) but the unkeyed container is at its end (\(elements.count) elements)."))
        }
        return offset(currentIndex)
    }

    /// Decodes the current scalar with `convert` and moves past it when that succeeds.
    @inline(__always)
    private mutating func next<T>(_ type: T.Type, _ convert: (JSONValue, () -> [any CodingKey]) throws -> T) throws -> T {
        let value = try state.value(at: current(type))
        let result = try convert(value) { state.codingPath(depth: depth, .index(currentIndex)) }
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
        guard state.byte(at: offset(currentIndex)) == UInt8(ascii: "n") else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type, JSONTextScalar.bool) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type, JSONTextScalar.string) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type, JSONTextScalar.double) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type, JSONTextScalar.float) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try next(type) { try JSONTextScalar.integer(type, $0, $1) } }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let result = try JSONTextDecoderImplementation.decode(
            type, state: state, offset: current(type), depth: depth, step: .index(currentIndex))
        currentIndex += 1
        return result
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try child(current(KeyedDecodingContainer<NestedKey>.self)).container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try child(current((any UnkeyedDecodingContainer).self)).unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = try child(current((any Decoder).self))
        currentIndex += 1
        return decoder
    }

    /// A decoder for the current element, at `offset`.
    private func child(_ offset: Int) -> JSONTextDecoderImplementation {
        state.setPath(depth: depth, .index(currentIndex))
        return JSONTextDecoderImplementation(state: state, offset: offset, depth: depth + 1)
    }
}

// MARK: - Single-value container

struct JSONTextSingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: JSONTextDecoderImplementation

    var codingPath: [any CodingKey] { decoder.codingPath }
    private var state: JSONTextDecodingState { decoder.state }

    private func value() throws -> JSONValue { try state.value(at: decoder.offset) }

    /// Converts the value with `convert`, whose error paths are this container's.
    @inline(__always)
    private func decodeScalar<T>(_ convert: (JSONValue, () -> [any CodingKey]) throws -> T) throws -> T {
        let value = try value()
        return try convert(value) { decoder.codingPath }
    }

    func decodeNil() -> Bool { state.byte(at: decoder.offset) == UInt8(ascii: "n") }
    func decode(_ type: Bool.Type) throws -> Bool { try decodeScalar(JSONTextScalar.bool) }
    func decode(_ type: String.Type) throws -> String { try decodeScalar(JSONTextScalar.string) }
    func decode(_ type: Double.Type) throws -> Double { try decodeScalar(JSONTextScalar.double) }
    func decode(_ type: Float.Type) throws -> Float { try decodeScalar(JSONTextScalar.float) }
    func decode(_ type: Int.Type) throws -> Int { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type) throws -> Int128 { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type) throws -> UInt128 { try decodeScalar { try JSONTextScalar.integer(type, $0, $1) } }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return try value() as! T }
        return try T(from: decoder)
    }
}
