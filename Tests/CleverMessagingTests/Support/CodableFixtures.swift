import Foundation
import Testing

@testable import CleverMessaging

// Codable types and helpers the JSONValue bridge tests encode and decode.

struct Point: Codable, Equatable {
    var x: Int
    var y: Double
}

struct Shape: Codable, Equatable {
    var name: String
    var origin: Point
    var corners: [Point]
    var tags: [String]
    var visible: Bool
}

enum Colour: String, Codable, Equatable {
    case red, green
    case deepBlue = "deep-blue"
}

enum Priority: Int, Codable, Equatable {
    case low = 1
    case high = 10
}

enum Command: Codable, Equatable {
    case stop
    case move(dx: Int, dy: Int)
    case say(String)
}

struct Palette: Codable, Equatable {
    var primary: Colour
    var others: [Colour]
    var priority: Priority
    var command: Command
}

struct Options: Codable, Equatable {
    var required: Int
    var note: String?
    var limit: Int?
    var nested: Point?
}

struct Ordered: Codable, Equatable {
    var zulu: Int
    var alpha: Int
    var mike: Int
    var bravo: Int
}

struct Numbers: Codable, Equatable {
    var int8: Int8
    var int16: Int16
    var int32: Int32
    var int64: Int64
    var uint: UInt
    var uint8: UInt8
    var uint16: UInt16
    var uint32: UInt32
    var uint64: UInt64
    var float: Float
    var double: Double
}

struct Floats: Codable {
    var a: Double
    var b: Double
    var c: Double
    var d: Float
}

struct Holder: Codable, Equatable {
    var label: String
    var payload: JSONValue
}

struct Counted: Codable, Equatable {
    var count: Int
}

struct Inventory: Codable, Equatable {
    var items: [Counted]
}

struct Pair: Codable, Equatable {
    var a: Int
    var b: Int
}

class Animal: Codable {
    var legs: Int
    init(legs: Int) { self.legs = legs }
}

final class Dog: Animal {
    var name: String

    init(name: String, legs: Int) {
        self.name = name
        super.init(legs: legs)
    }

    private enum CodingKeys: String, CodingKey { case name }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try super.encode(to: container.superEncoder())
    }
}

/// Encodes through every kind of container, nested ones and super encoders.
struct Containers: Codable, Equatable {
    var header: String
    var matrix: [[Int]]
    var inner: Point
    var tail: Point

    private enum CodingKeys: String, CodingKey { case header, body, tail }
    private enum BodyKeys: String, CodingKey { case matrix, inner }

    init(header: String, matrix: [[Int]], inner: Point, tail: Point) {
        self.header = header
        self.matrix = matrix
        self.inner = inner
        self.tail = tail
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(header, forKey: .header)
        var body = container.nestedContainer(keyedBy: BodyKeys.self, forKey: .body)
        var rows = body.nestedUnkeyedContainer(forKey: .matrix)
        for row in matrix {
            var nested = rows.nestedUnkeyedContainer()
            for element in row { try nested.encode(element) }
        }
        var inner = body.nestedContainer(keyedBy: AnyKey.self, forKey: .inner)
        try inner.encode(self.inner.x, forKey: AnyKey("x"))
        try inner.encode(self.inner.y, forKey: AnyKey("y"))
        try tail.encode(to: container.superEncoder(forKey: .tail))
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        header = try container.decode(String.self, forKey: .header)
        let body = try container.nestedContainer(keyedBy: BodyKeys.self, forKey: .body)
        var rows = try body.nestedUnkeyedContainer(forKey: .matrix)
        var matrix: [[Int]] = []
        while !rows.isAtEnd {
            var nested = try rows.nestedUnkeyedContainer()
            var row: [Int] = []
            while !nested.isAtEnd { row.append(try nested.decode(Int.self)) }
            matrix.append(row)
        }
        self.matrix = matrix
        let inner = try body.nestedContainer(keyedBy: AnyKey.self, forKey: .inner)
        self.inner = Point(
            x: try inner.decode(Int.self, forKey: AnyKey("x")), y: try inner.decode(Double.self, forKey: AnyKey("y")))
        tail = try Point(from: container.superDecoder(forKey: .tail))
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Uses a keyed container, then an unkeyed one, at the same path.
struct Inconsistent: Encodable {
    func encode(to encoder: any Encoder) throws {
        var keyed = encoder.container(keyedBy: AnyKey.self)
        try keyed.encode(1, forKey: AnyKey("a"))
        var unkeyed = encoder.unkeyedContainer()
        try unkeyed.encode(2)
    }
}

/// Encodes twice through a single-value container.
struct Twice: Encodable {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(1)
        try container.encode(2)
    }
}

/// Encodes nothing at all.
struct Silent: Encodable {
    func encode(to encoder: any Encoder) throws {}
}

/// Writes explicit nulls with `encode` and `encodeNil`.
struct ExplicitNulls: Encodable {
    var value: Int?
    private enum CodingKeys: String, CodingKey { case value, other }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(value, forKey: .value)
        try container.encodeNil(forKey: .other)
    }
}

/// Reports the user info it was coded with.
struct UserInfoProbe: Codable {
    static let key = CodingUserInfoKey(rawValue: "probe")!
    var seen: String

    init(seen: String) { self.seen = seen }

    init(from decoder: any Decoder) throws {
        seen = decoder.userInfo[Self.key] as? String ?? "none"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoder.userInfo[Self.key] as? String ?? "none")
    }
}

/// The string values of a coding path.
func names(_ path: [any CodingKey]) -> [String] {
    path.map(\.stringValue)
}

func roundTrip<T: Codable>(_ value: T) throws -> (JSONValue, T) {
    let encoded = try JSONValueEncoder().encode(value)
    let decoded = try JSONValueDecoder().decode(T.self, from: encoded)
    return (encoded, decoded)
}
