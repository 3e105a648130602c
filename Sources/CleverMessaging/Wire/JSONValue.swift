import OrderedCollections

/// A JSON value in the dialect of Python's `json` module.
///
/// The dialect differs from RFC 8259 JSON in ways the reference peers rely on
/// (PROTOCOL.md section 2):
/// * integers keep their exact value whatever their size (``bigInteger(_:)``
///   carries the decimal digits of those beyond 64 bits);
/// * an integer and a float stay apart: `1` is ``integer(_:)``, `1.0` is
///   ``double(_:)``, and each is written back as it came;
/// * non-finite floats exist and are written as Python writes them
///   (`NaN`, `Infinity`, `-Infinity`);
/// * object keys keep their order.
///
/// Equality is structural: two `NaN` doubles are equal (bit patterns aside),
/// so a value that went through a round trip compares equal to itself.
public enum JSONValue: Sendable {
    /// `null` (Python `None`).
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer that fits in 64 bits.
    case integer(Int)
    /// An integer beyond 64 bits, as its exact decimal digits with an optional
    /// leading `-` (for example `"-123456789012345678901234567890"`).
    case bigInteger(String)
    /// A float, including `NaN` and the infinities.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object whose keys keep their order.
    case object(JSONObject)
}

/// A JSON object: string keys in order, each with a value.
///
/// A duplicate key in parsed input behaves as in Python: the last value wins,
/// at the position where the key first appeared.
public typealias JSONObject = OrderedDictionary<String, JSONValue>

extension JSONValue: Hashable {
    /// Structural equality; `NaN` equals `NaN`.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bigInteger(let a), .bigInteger(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    /// Hashes consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .integer(let i): hasher.combine(2); hasher.combine(i)
        case .bigInteger(let s): hasher.combine(3); hasher.combine(s)
        case .double(let d): hasher.combine(4); hasher.combine(d.isNaN ? Double.nan : d)
        case .string(let s): hasher.combine(5); hasher.combine(s)
        case .array(let a): hasher.combine(6); hasher.combine(a)
        case .object(let o): hasher.combine(7); hasher.combine(o)
        }
    }
}

extension JSONValue {
    /// The string, if this is ``string(_:)``.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, if this is ``integer(_:)``.
    public var integerValue: Int? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// The number as a `Double`, if this is ``integer(_:)`` or ``double(_:)``.
    public var doubleValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .double(let d): return d
        case .bigInteger(let s): return Double(s)
        default: return nil
        }
    }

    /// The boolean, if this is ``bool(_:)``.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is ``array(_:)``.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The object, if this is ``object(_:)``.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Whether this is ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member `key` of an object, or `nil` when this is not an object or has no such key.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The element at `index` of an array, or `nil` when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    /// Creates ``null``.
    public init(nilLiteral: ()) { self = .null }
    /// Creates ``bool(_:)``.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Creates ``integer(_:)``.
    public init(integerLiteral value: Int) { self = .integer(value) }
    /// Creates ``double(_:)``.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// Creates ``string(_:)``.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Creates ``array(_:)``.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Creates ``object(_:)``; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object = JSONObject(minimumCapacity: elements.count)
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}

extension JSONValue: CustomStringConvertible {
    /// The value written in the Python dialect, with the reference's separators.
    public var description: String {
        String(decoding: JSONWriter.bytes(of: self), as: UTF8.self)
    }
}
