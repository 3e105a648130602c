import Foundation
import NIOCore
import Testing

@testable import CleverMessaging

/// ``JSONTextEncoder`` writes the very bytes that ``JSONValueEncoder`` followed
/// by ``JSONWriter`` write, for every value, and the same errors.
@Suite("JSON text encoder")
struct JSONTextEncoderTests {
    /// The bytes of the tree path.
    static func treeBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        JSONWriter.bytes(of: try JSONValueEncoder().encode(value))
    }

    /// The bytes of the direct path.
    static func directBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        let buffer = try JSONTextEncoder.encode(value)
        return Array(buffer.readableBytesView)
    }

    static func expectSame<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tree = try treeBytes(value)
        let direct = try directBytes(value)
        #expect(
            direct == tree,
            "\(String(decoding: direct, as: UTF8.self)) != \(String(decoding: tree, as: UTF8.self))",
            sourceLocation: sourceLocation)
    }

    // MARK: - Corpus

    struct Position: Codable, Equatable { var x: Double; var y: Double; var z: Double }
    struct Leds: Codable, Equatable { var r: UInt8; var g: UInt8; var b: UInt8; var effect: String? }
    struct Telemetry: Codable, Equatable {
        var id: String
        var armed: Bool
        var battery: [Double]
        var position: Position?
        var leds: Leds
        var tasks: [String]
        var note: String?
        var counters: [String: Int]
        var nested: [[Int]]
        var start: Int64
    }

    enum Command: Codable, Equatable {
        case land
        case goTo(x: Double, y: Double, speed: Float)
        case say(String, times: Int)
    }

    struct Extremes: Codable {
        var i64min = Int64.min
        var i64max = Int64.max
        var u64max = UInt64.max
        var u = UInt.max
        var i8 = Int8.min
        var u32 = UInt32.max
        var float: Float = 0.1
        var floatTiny: Float = .leastNonzeroMagnitude
        var floatNaN: Float = .nan
        var negativeZero = -0.0
        var big = 1e16
        var small = 1e-7
        var subnormal = Double.leastNonzeroMagnitude
        var normalMin = Double.leastNormalMagnitude
        var max = Double.greatestFiniteMagnitude
        var nan = Double.nan
        var inf = Double.infinity
        var minusInf = -Double.infinity
        var pointOne = 0.1
        var third = 1.0 / 3.0
        var integral = 2.0
        var large = 123456789012345678.0
    }

    struct Texts: Codable {
        var plain = "hello"
        var empty = ""
        var quotes = "say \"hi\" \\ back/slash"
        var controls = "a\u{0}b\u{1}c\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1F}\u{7F}"
        var accents = "héllo wörld ñ"
        var cjk = "無人機 ショー"
        var emoji = "🚁 drone 👍🏽 flag 🇫🇷"
        var surrogatePairs = "\u{1D11E}\u{10FFFF}\u{10000}"
        var long = String(repeating: "abcdefgh\"\n", count: 40)
        var keyed = ["ключ": "значение", "k\"ey": "v\\al", "\u{1}": "ctl"]
    }

    static let telemetry = Telemetry(
        id: "copter-1", armed: true, battery: [12.3, 0.92], position: Position(x: 1.5, y: -2.25, z: 0.0),
        leds: Leds(r: 255, g: 0, b: 12, effect: nil), tasks: ["takeoff", "land"], note: nil,
        counters: ["sent": 3], nested: [[], [1], [2, 3]], start: 1_700_000_000_123)

    @Test func structsArraysAndOptionals() throws {
        try Self.expectSame(Self.telemetry)
        try Self.expectSame([Self.telemetry, Self.telemetry])
        try Self.expectSame(Position(x: 0.1, y: 0.2, z: 0.30000000000000004))
        try Self.expectSame([Position?.none, Position(x: 1, y: 2, z: 3)])
        try Self.expectSame(["a": [1, 2], "b": []] as [String: [Int]])
        try Self.expectSame([Int]())
        try Self.expectSame([String: Int]())
    }

    @Test func enumsWithAssociatedValues() throws {
        try Self.expectSame([Command.land, .goTo(x: 1, y: -2.5, speed: 0.3), .say("hi", times: 2)])
    }

    @Test func numbersAtTheEdges() throws {
        try Self.expectSame(Extremes())
        if #available(macOS 15.0, *) {
            try Self.expectSame([Int128.max, Int128.min, 0])
            try Self.expectSame([UInt128.max])
        }
        try Self.expectSame([Double.leastNonzeroMagnitude, 2.2250738585072014e-308, 1e22, 1e21, 9007199254740992, 0.5, 100.0, 1e-5, 1e-4, -1e-7])
        try Self.expectSame([Float.greatestFiniteMagnitude, Float.leastNormalMagnitude, 16777216, 0.3, -0.0])
    }

    @Test func stringsAndEscapes() throws {
        try Self.expectSame(Texts())
        try Self.expectSame("top-level \u{2028} string")
        try Self.expectSame(42)
        try Self.expectSame(Optional<Int>.none)
    }

    @Test func jsonValuesInside() throws {
        struct Holder: Encodable {
            var raw: JSONValue
            var list: [JSONValue]
        }
        try Self.expectSame(
            Holder(
                raw: ["b": 1, "a": [.null, .double(.nan), .bigInteger("123456789012345678901234567890")]],
                list: [.string("x"), .object([:])]))
        try Self.expectSame(JSONValue.object(["z": 1, "a": 2]))
    }

    // MARK: - Containers used out of order

    /// Encodes a key twice: the tree replaces the value in place.
    struct RepeatedKey: Encodable {
        enum Keys: String, CodingKey { case a, b }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .a)
            try container.encode(2, forKey: .b)
            try container.encode(3, forKey: .a)
        }
    }

    /// Writes to a nested container after its parent moved on.
    struct LateNested: Encodable {
        enum Keys: String, CodingKey { case inner, after }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var inner = container.nestedUnkeyedContainer(forKey: .inner)
            try inner.encode(1)
            try container.encode("x", forKey: .after)
            try inner.encode(2)
        }
    }

    /// Asks for the same keyed container twice, as a subclass does.
    struct SameContainerTwice: Encodable {
        enum Keys: String, CodingKey { case a, b }
        func encode(to encoder: any Encoder) throws {
            var first = encoder.container(keyedBy: Keys.self)
            try first.encode(1, forKey: .a)
            var second = encoder.container(keyedBy: Keys.self)
            try second.encode(2, forKey: .b)
        }
    }

    class Base: Encodable {
        var base = 1
        enum Keys: String, CodingKey { case base }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(base, forKey: .base)
        }
    }

    final class Derived: Base {
        var derived = "d"
        enum DerivedKeys: String, CodingKey { case derived }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: DerivedKeys.self)
            try container.encode(derived, forKey: .derived)
            try super.encode(to: container.superEncoder())
        }
    }

    /// Encodes nothing at all.
    struct Nothing: Encodable {
        func encode(to encoder: any Encoder) throws {}
    }

    /// Many keys, then one of them again.
    struct ManyKeys: Encodable {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var repeatAt: Int?
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for i in 0..<40 { try container.encode(i, forKey: Key(stringValue: "k\(i)")) }
            if let repeatAt { try container.encode(-1, forKey: Key(stringValue: "k\(repeatAt)")) }
        }
    }

    @Test func outOfOrderUseFallsBackToTheSameBytes() throws {
        try Self.expectSame(RepeatedKey())
        try Self.expectSame(LateNested())
        try Self.expectSame(SameContainerTwice())
        try Self.expectSame(Derived())
        try Self.expectSame(["empty": Nothing()])
        try Self.expectSame([Nothing(), Nothing()])
        try Self.expectSame(ManyKeys(repeatAt: nil))
        try Self.expectSame(ManyKeys(repeatAt: 3))
        try Self.expectSame(ManyKeys(repeatAt: 39))
    }

    @Test func errorsAreThoseOfTheTree() throws {
        #expect(throws: EncodingError.self) { try JSONTextEncoder.encode(Nothing()) }
        struct Throws: Encodable {
            struct Failure: Error {}
            func encode(to encoder: any Encoder) throws { throw Failure() }
        }
        #expect(throws: Throws.Failure.self) { try JSONTextEncoder.encode(["a": Throws()]) }
        struct TwoSingles: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                try container.encode(1)
                try container.encode(2)
            }
        }
        #expect(throws: EncodingError.self) { try JSONTextEncoder.encode(TwoSingles()) }
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode(TwoSingles()) }
    }

    // MARK: - Random trees through every container

    /// A value that encodes through keyed, unkeyed and single-value containers.
    indirect enum Node: Encodable {
        case int(Int)
        case double(Double)
        case string(String)
        case bool(Bool)
        case null
        case array([Node])
        case object([(String, Node)])
        case nestedObject([(String, Int)])

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .int(let v):
                var c = encoder.singleValueContainer()
                try c.encode(v)
            case .double(let v):
                var c = encoder.singleValueContainer()
                try c.encode(v)
            case .string(let v):
                var c = encoder.singleValueContainer()
                try c.encode(v)
            case .bool(let v):
                var c = encoder.singleValueContainer()
                try c.encode(v)
            case .null:
                var c = encoder.singleValueContainer()
                try c.encodeNil()
            case .array(let nodes):
                var c = encoder.unkeyedContainer()
                for node in nodes { try c.encode(node) }
            case .object(let members):
                var c = encoder.container(keyedBy: Key.self)
                for (key, node) in members { try c.encode(node, forKey: Key(stringValue: key)) }
            case .nestedObject(let members):
                var c = encoder.unkeyedContainer()
                var inner = c.nestedContainer(keyedBy: Key.self)
                for (key, value) in members { try inner.encode(value, forKey: Key(stringValue: key)) }
                var list = c.nestedUnkeyedContainer()
                for (_, value) in members { try list.encode(Double(value) / 7) }
            }
        }
    }

    static func randomNode(depth: Int, using rng: inout some RandomNumberGenerator) -> Node {
        let pieces = ["a", "é", "\"", "\\", "\n", "\u{1}", "🚁", "key", "ü", " "]
        func text() -> String { (0..<Int.random(in: 0...4, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined() }
        switch Int.random(in: 0..<(depth > 3 ? 5 : 8), using: &rng) {
        case 0: return .int(Int.random(in: Int.min...Int.max, using: &rng) >> Int.random(in: 0...63, using: &rng))
        case 1: return .double(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng)))
        case 2: return .string(text())
        case 3: return Bool.random(using: &rng) ? .bool(Bool.random(using: &rng)) : .null
        case 4: return .double(Double(Int.random(in: -1000...1000, using: &rng)) / 8)
        case 5: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomNode(depth: depth + 1, using: &rng) })
        case 6:
            // Distinct keys: the tree would merge repeated ones.
            var seen = Set<String>()
            var members: [(String, Node)] = []
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                let key = text()
                if seen.insert(key).inserted { members.append((key, randomNode(depth: depth + 1, using: &rng))) }
            }
            return .object(members)
        default:
            return .nestedObject([("x", Int.random(in: -9...9, using: &rng)), ("y", 2)])
        }
    }

    @Test func randomTreesMatchTheTree() throws {
        var rng = WireTestKit.SeededRNG(seed: 0x5EED_1234)
        for _ in 0..<3000 {
            try Self.expectSame(Self.randomNode(depth: 0, using: &rng))
        }
    }

    // MARK: - Python

    /// Python reads each text and writes it again, as the reference does
    /// (`json.dumps` with its defaults but raw UTF-8): the bytes must come back unchanged.
    @Test func pythonWritesTheSameBytes() async throws {
        var rng = WireTestKit.SeededRNG(seed: 42)
        var texts: [[UInt8]] = [
            try Self.directBytes(Self.telemetry), try Self.directBytes(Extremes()), try Self.directBytes(Texts()),
            try Self.directBytes([Command.land, .goTo(x: 1, y: -2.5, speed: 0.3)]),
        ]
        for _ in 0..<300 {
            texts.append(try Self.directBytes(["v": Self.randomNode(depth: 0, using: &rng)]))
        }
        let script = """
            import sys, json
            out = []
            for line in sys.stdin.read().split():
                b = bytes.fromhex(line)
                again = json.dumps(json.loads(b.decode("utf-8")), ensure_ascii=False).encode("utf-8")
                out.append("OK" if again == b else "DIFF " + again.hex())
            sys.stdout.write("\\n".join(out) + "\\n")
            """
        let output = try await PythonInterop.run(script: script, input: texts.map { PythonInterop.hex($0) }.joined(separator: "\n"))
        let lines = output.split(separator: "\n")
        #expect(lines.count == texts.count)
        for (line, text) in zip(lines, texts) where line != "OK" {
            Issue.record("Python writes \(line) for \(String(decoding: text, as: UTF8.self))")
        }
    }
}
