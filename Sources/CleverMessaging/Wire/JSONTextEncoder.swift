import NIOCore

/// Encodes `Encodable` values straight to Python-dialect JSON text, without
/// building a ``JSONValue`` tree first.
///
/// The text is byte for byte what ``JSONWriter`` writes for the tree that
/// ``JSONValueEncoder`` makes of the same value: `", "` and `": "` separators,
/// keys in the order they were encoded, floats as Python's `repr`, the same
/// string escapes, `NaN`/`Infinity` for non-finite floats.
///
/// Values are written as they are encoded, which holds for every value whose
/// containers are used in order (as synthesized conformances use them): a
/// container is finished once its parent writes again. A value that comes back
/// to a finished container, encodes a key twice, asks for a `superEncoder`, or
/// misuses its containers is encoded again through the tree (with the same
/// text, or the same error, as before); `encode(to:)` then runs twice.
package enum JSONTextEncoder {
    /// The JSON text of `value`.
    /// - Parameters:
    ///   - value: the value to encode.
    ///   - userInfo: handed to the encoded types as `Encoder.userInfo`.
    ///   - capacity: the buffer's first capacity.
    /// - Returns: the text, alone in a buffer of its own.
    /// - Throws: the errors of ``JSONValueEncoder/encode(_:)``.
    package static func encode<T: Encodable>(
        _ value: T,
        userInfo: [CodingUserInfoKey: any Sendable] = [:],
        capacity: Int = 128
    ) throws -> ByteBuffer {
        if let json = value as? JSONValue {
            var buffer = ByteBufferAllocator().buffer(capacity: capacity)
            JSONWriter.write(json, into: &buffer)
            return buffer
        }
        let state = JSONTextEncodingState(capacity: capacity, userInfo: userInfo)
        do {
            try value.encode(to: JSONTextEncoderImplementation(state: state, slot: JSONTextEncodingState.rootSlot, depth: 0))
        } catch where state.abandoned {
            // Encoded again through the tree below.
        }
        if !state.abandoned && state.finish() {
            return state.buffer
        }
        var encoder = JSONValueEncoder()
        encoder.userInfo = userInfo
        let tree = try encoder.encode(value)
        var buffer = ByteBufferAllocator().buffer(capacity: capacity)
        JSONWriter.write(tree, into: &buffer)
        return buffer
    }
}

/// Thrown (to stop early) when the text encoder gives a value over to the tree.
struct JSONTextEncodingAbandoned: Error {}

/// One step of a coding path, made into a `CodingKey` only when asked.
enum JSONTextPathStep {
    case key(any CodingKey)
    case index(Int)

    var codingKey: any CodingKey {
        switch self {
        case .key(let key): return key
        case .index(let index): return JSONValueCodingKey(index: index)
        }
    }
}

/// The output and the open containers of one ``JSONTextEncoder/encode(_:userInfo:capacity:)`` call.
///
/// Its properties are not checked for exclusive access at run time: one encode
/// call uses the state on one thread, and no access to a property overlaps
/// another to the same property (the checks cost more than the encoding).
final class JSONTextEncodingState {
    /// An array or object whose text is being written.
    struct Open {
        /// The container's number.
        var id: Int
        /// The slot it fills.
        var slot: Int
        /// Whether it is an object.
        var isObject: Bool
        /// How many members or elements were written.
        var count = 0
        /// Where its keys start in ``keys``.
        var keyStart: Int
        /// Its keys, once there are many.
        var keySet: Set<String>? = nil
    }

    /// The slot of the top-level value.
    static let rootSlot = 1

    @exclusivity(unchecked) var buffer: ByteBuffer
    let userInfo: [CodingUserInfoKey: Any]
    /// The open containers, innermost last.
    @exclusivity(unchecked) var open: [Open] = []
    /// The keys of the open objects.
    @exclusivity(unchecked) var keys: [String] = []
    /// The coding path of the innermost value being encoded.
    @exclusivity(unchecked) var path: [JSONTextPathStep] = []
    /// The slot waiting for its value (its key or separator written), 0 for none.
    @exclusivity(unchecked) var pendingSlot = JSONTextEncodingState.rootSlot
    /// The last number given to a slot or container.
    @exclusivity(unchecked) var lastID = JSONTextEncodingState.rootSlot
    /// Whether the value goes over to the tree.
    @exclusivity(unchecked) var abandoned = false

    init(capacity: Int, userInfo: [CodingUserInfoKey: any Sendable]) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
        self.userInfo = userInfo.isEmpty ? [:] : userInfo.mapValues { $0 as Any }
    }

    /// A new number for a slot or a container.
    @inline(__always)
    func nextID() -> Int {
        lastID &+= 1
        return lastID
    }

    /// Gives the value over to the tree.
    func abandon() -> JSONTextEncodingAbandoned {
        abandoned = true
        return JSONTextEncodingAbandoned()
    }

    /// The coding path of the first `depth` steps.
    func codingPath(depth: Int) -> [any CodingKey] {
        path.prefix(depth).map(\.codingKey)
    }

    /// Sets the path to its first `depth` steps and `step`.
    @inline(__always)
    func setPath(depth: Int, _ step: JSONTextPathStep) {
        if path.count > depth { path.removeSubrange(depth...) }
        if path.capacity == 0 { path.reserveCapacity(8) }
        path.append(step)
    }

    // MARK: - Containers

    /// Opens an object or array in `slot`, or finds the one open there.
    /// - Returns: the container's number, 0 when the value was given over to the tree.
    func openContainer(slot: Int, isObject: Bool) -> Int {
        guard !abandoned else { return 0 }
        if pendingSlot == slot {
            pendingSlot = 0
            let id = nextID()
            buffer.writeInteger(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
            // Room for the usual nesting and keys at once, instead of growing one by one.
            if open.capacity == 0 { open.reserveCapacity(8) }
            if isObject && keys.capacity == 0 { keys.reserveCapacity(16) }
            open.append(Open(id: id, slot: slot, isObject: isObject, keyStart: keys.count))
            return id
        }
        // The container asked for again (as class hierarchies do): the same one, still open.
        if pendingSlot == 0, let index = open.lastIndex(where: { $0.slot == slot }), open[index].isObject == isObject {
            closeAbove(index)
            return open[index].id
        }
        _ = abandon()
        return 0
    }

    /// Makes container `id` the innermost again, finishing those opened in it.
    /// - Returns: its index in ``open``.
    /// - Throws: ``JSONTextEncodingAbandoned`` when it is finished or a value is pending.
    @inline(__always)
    func enter(_ id: Int) throws(JSONTextEncodingAbandoned) -> Int {
        guard !abandoned, pendingSlot == 0 else { throw abandon() }
        let last = open.count - 1
        if last >= 0, open[last].id == id { return last }
        guard let index = open.lastIndex(where: { $0.id == id }) else { throw abandon() }
        closeAbove(index)
        return index
    }

    /// Finishes the containers opened inside the one at `index`.
    func closeAbove(_ index: Int) {
        while open.count > index + 1 { close() }
    }

    /// Finishes the innermost container.
    private func close() {
        let finished = open.removeLast()
        if finished.isObject {
            keys.removeSubrange(finished.keyStart...)
            buffer.writeInteger(UInt8(ascii: "}"))
        } else {
            buffer.writeInteger(UInt8(ascii: "]"))
        }
    }

    /// Writes the separator and key of a new member of object `id`.
    /// - Throws: ``JSONTextEncodingAbandoned`` when the container is finished or
    ///   already holds `key` (the tree replaces a value in place).
    @inline(__always)
    func beginMember(_ id: Int, key: String) throws(JSONTextEncodingAbandoned) {
        let index = try enter(id)
        let count = open[index].count
        if count != 0 {
            if count >= 16 {
                if open[index].keySet == nil { open[index].keySet = Set(keys[open[index].keyStart...]) }
                guard open[index].keySet!.insert(key).inserted else { throw abandon() }
            } else {
                for k in open[index].keyStart..<keys.count where keys[k] == key { throw abandon() }
            }
            buffer.writeStaticString(", ")
        }
        keys.append(key)
        open[index].count = count + 1
        JSONWriter.writeString(key, into: &buffer)
        buffer.writeStaticString(": ")
    }

    /// Writes the separator before a new element of array `id`.
    /// - Returns: the element's index.
    @inline(__always)
    func beginElement(_ id: Int) throws(JSONTextEncodingAbandoned) -> Int {
        let index = try enter(id)
        let count = open[index].count
        if count != 0 { buffer.writeStaticString(", ") }
        open[index].count = count + 1
        return count
    }

    /// The count of members or elements written to container `id` (0 once finished).
    func count(of id: Int) -> Int {
        open.last(where: { $0.id == id })?.count ?? 0
    }

    // MARK: - Values

    /// Encodes `value` into a new slot (its key or separator written) at `depth` of the path.
    func encodeChild<T: Encodable>(_ value: T, step: JSONTextPathStep, depth: Int) throws {
        if let json = value as? JSONValue {
            JSONWriter.write(json, into: &buffer)
            return
        }
        let slot = nextID()
        pendingSlot = slot
        setPath(depth: depth, step)
        let containers = open.count
        try value.encode(to: JSONTextEncoderImplementation(state: self, slot: slot, depth: depth + 1))
        guard !abandoned else { throw JSONTextEncodingAbandoned() }
        if pendingSlot == slot {
            // Nothing encoded: an empty object, as in the tree.
            pendingSlot = 0
            buffer.writeStaticString("{}")
        }
        // The value's own containers are finished with it.
        if open.count > containers { closeAbove(containers - 1) }
    }

    /// Writes a single value into `slot`.
    /// - Throws: ``JSONTextEncodingAbandoned`` when the slot is not waiting for a value.
    @inline(__always)
    func beginSingleValue(slot: Int) throws(JSONTextEncodingAbandoned) {
        guard !abandoned, pendingSlot == slot else { throw abandon() }
        pendingSlot = 0
    }

    /// Writes an integer.
    @inline(__always)
    func write<T: BinaryInteger>(integer value: T) {
        if let small = Int(exactly: value) {
            JSONWriter.writeInteger(small, into: &buffer)
        } else {
            JSONWriter.write(JSONValue(exactInteger: value), into: &buffer)
        }
    }

    /// Writes a `Float` as the tree does (the double of its shortest decimal form).
    func write(float value: Float) {
        JSONWriter.write(jsonDouble(of: value), into: &buffer)
    }

    /// Ends the encoding: closes what is open.
    /// - Returns: `false` when nothing was encoded (the tree reports the error).
    func finish() -> Bool {
        guard pendingSlot == 0 else { return false }
        closeAbove(-1)
        return true
    }
}

/// The `Encoder` behind ``JSONTextEncoder``: one slot of the text.
struct JSONTextEncoderImplementation: Encoder {
    let state: JSONTextEncodingState
    let slot: Int
    let depth: Int

    var codingPath: [any CodingKey] { state.codingPath(depth: depth) }
    var userInfo: [CodingUserInfoKey: Any] { state.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let id = state.openContainer(slot: slot, isObject: true)
        return KeyedEncodingContainer(JSONTextKeyedEncodingContainer<Key>(state: state, id: id, depth: depth))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        JSONTextUnkeyedEncodingContainer(state: state, id: state.openContainer(slot: slot, isObject: false), depth: depth)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONTextSingleValueEncodingContainer(encoder: self)
    }

    /// Writes `value` as this slot's value.
    func encodeJSONValue(_ value: JSONValue) throws {
        try state.beginSingleValue(slot: slot)
        JSONWriter.write(value, into: &state.buffer)
    }
}
