import Foundation
import Testing

@testable import CleverMessaging

// MARK: - Fixtures

// MARK: - Tests

@Suite("JSONValue Codable bridge")
struct JSONValueCodableTests {
    // MARK: Round trips

    @Test("nested structs round trip with the expected shape")
    func nestedStructs() throws {
        let shape = Shape(
            name: "square", origin: Point(x: 1, y: 2.5),
            corners: [Point(x: 0, y: 0), Point(x: -3, y: 1e300)],
            tags: ["a", "é"], visible: true)
        let (encoded, decoded) = try roundTrip(shape)
        #expect(decoded == shape)
        let expected: JSONValue = [
            "name": "square",
            "origin": ["x": 1, "y": 2.5],
            "corners": [["x": 0, "y": 0.0], ["x": -3, "y": 1e300]],
            "tags": ["a", "é"],
            "visible": true,
        ]
        #expect(encoded == expected)
    }

    @Test("enums with raw values and with associated values")
    func enums() throws {
        let palette = Palette(
            primary: .deepBlue, others: [.red, .green], priority: .high, command: .move(dx: 1, dy: -2))
        let (encoded, decoded) = try roundTrip(palette)
        #expect(decoded == palette)
        #expect(encoded["primary"] == "deep-blue")
        #expect(encoded["others"] == ["red", "green"])
        #expect(encoded["priority"] == 10)
        #expect(encoded["command"] == ["move": ["dx": 1, "dy": -2]])

        for command in [Command.stop, .say("hi"), .move(dx: 0, dy: 0)] {
            #expect(try roundTrip(command).1 == command)
        }
        #expect(try JSONValueEncoder().encode(Command.say("hi")) == ["say": ["_0": "hi"]])
    }

    @Test("an unknown raw value is reported as corrupted data at its path")
    func unknownRawValue() throws {
        let value: JSONValue = ["primary": "purple", "others": [], "priority": 1, "command": ["stop": [:]]]
        let error = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(Palette.self, from: value)
        }
        guard case .dataCorrupted(let context) = error else {
            Issue.record("expected dataCorrupted, got \(error)")
            return
        }
        #expect(names(context.codingPath) == ["primary"])
    }

    @Test("nil optionals are left out, present ones are written")
    func optionals() throws {
        let sparse = Options(required: 1, note: nil, limit: nil, nested: nil)
        let (sparseEncoded, sparseDecoded) = try roundTrip(sparse)
        #expect(sparseEncoded == ["required": 1])
        #expect(sparseDecoded == sparse)

        let full = Options(required: 1, note: "n", limit: 0, nested: Point(x: 2, y: 3))
        let (fullEncoded, fullDecoded) = try roundTrip(full)
        #expect(fullEncoded == ["required": 1, "note": "n", "limit": 0, "nested": ["x": 2, "y": 3.0]])
        #expect(fullDecoded == full)
    }

    @Test("explicit nulls decode as nil optionals")
    func explicitNulls() throws {
        let decoded = try JSONValueDecoder().decode(
            Options.self, from: ["required": 1, "note": nil, "limit": nil, "nested": nil])
        #expect(decoded == Options(required: 1, note: nil, limit: nil, nested: nil))
        #expect(try JSONValueEncoder().encode(ExplicitNulls(value: nil)) == ["value": nil, "other": nil])
        #expect(try JSONValueEncoder().encode(ExplicitNulls(value: 4)) == ["value": 4, "other": nil])
        #expect(try JSONValueEncoder().encode(Int?.none) == .null)
        #expect(try JSONValueDecoder().decode(Int?.self, from: .null) == nil)
        #expect(try JSONValueDecoder().decode(Int?.self, from: 5) == 5)
    }

    @Test("arrays of structs, arrays of optionals, empty arrays")
    func arrays() throws {
        let points = [Point(x: 1, y: 1.5), Point(x: 2, y: -0.25)]
        let (encoded, decoded) = try roundTrip(points)
        #expect(encoded == [["x": 1, "y": 1.5], ["x": 2, "y": -0.25]])
        #expect(decoded == points)

        let optionals: [Int?] = [1, nil, 3]
        let (optionalsEncoded, optionalsDecoded) = try roundTrip(optionals)
        #expect(optionalsEncoded == [1, nil, 3])
        #expect(optionalsDecoded == optionals)

        let (emptyEncoded, emptyDecoded) = try roundTrip([Point]())
        #expect(emptyEncoded == [])
        #expect(emptyDecoded.isEmpty)
    }

    @Test("dictionaries with String and Int keys")
    func dictionaries() throws {
        let counts = ["apples": 3, "pears": -1, "": 0]
        let (encoded, decoded) = try roundTrip(counts)
        #expect(decoded == counts)
        #expect(encoded.objectValue.map { Set($0.keys) } == Set(counts.keys))
        #expect(encoded["apples"] == 3)

        let byNumber = [1: "one", 20: "twenty"]
        let (numberEncoded, numberDecoded) = try roundTrip(byNumber)
        #expect(numberDecoded == byNumber)
        #expect(numberEncoded["20"] == "twenty")

        let nested = ["outer": ["inner": [Point(x: 1, y: 2)]]]
        #expect(try roundTrip(nested).1 == nested)
    }

    @Test("every integer type and both float types")
    func numberTypes() throws {
        let numbers = Numbers(
            int8: -128, int16: 32767, int32: -2_147_483_648, int64: .min, uint: 7, uint8: 255,
            uint16: 65535, uint32: 4_294_967_295, uint64: 42, float: 0.1, double: -2.5)
        let (encoded, decoded) = try roundTrip(numbers)
        #expect(decoded == numbers)
        #expect(encoded["int64"] == .integer(.min))
        #expect(encoded["uint32"] == 4_294_967_295)
        #expect(encoded["float"] == .double(0.1))
        #expect(encoded["double"] == -2.5)
    }

    @Test("NaN and the infinities stay doubles both ways")
    func nonFinite() throws {
        let floats = Floats(a: .nan, b: .infinity, c: -.infinity, d: .nan)
        let encoded = try JSONValueEncoder().encode(floats)
        #expect(encoded["a"]?.doubleValue?.isNaN == true)
        #expect(encoded["b"] == .double(.infinity))
        #expect(encoded["c"] == .double(-.infinity))
        #expect(encoded["d"]?.doubleValue?.isNaN == true)
        let decoded = try JSONValueDecoder().decode(Floats.self, from: encoded)
        #expect(decoded.a.isNaN)
        #expect(decoded.b == .infinity)
        #expect(decoded.c == -.infinity)
        #expect(decoded.d.isNaN)
        #expect(try JSONValueDecoder().decode(Float.self, from: .double(-.infinity)) == -.infinity)
    }

    @Test("key order follows the order of encoding")
    func keyOrder() throws {
        let encoded = try JSONValueEncoder().encode(Ordered(zulu: 1, alpha: 2, mike: 3, bravo: 4))
        #expect(encoded.objectValue.map { Array($0.keys) } == ["zulu", "alpha", "mike", "bravo"])
        #expect(encoded.description == #"{"zulu": 1, "alpha": 2, "mike": 3, "bravo": 4}"#)
    }

    @Test("a JSONValue is encoded and decoded as itself, also inside structs")
    func jsonValuePassThrough() throws {
        let payload: JSONValue = [
            "z": .bigInteger("123456789012345678901234567890"), "a": .double(.nan), "m": [1, 1.0, nil, "s"],
        ]
        #expect(try JSONValueEncoder().encode(payload) == payload)
        #expect(try JSONValueDecoder().decode(JSONValue.self, from: payload) == payload)

        let holder = Holder(label: "h", payload: payload)
        let (encoded, decoded) = try roundTrip(holder)
        #expect(encoded == ["label": "h", "payload": payload])
        #expect(decoded == holder)
        #expect(decoded.payload.objectValue.map { Array($0.keys) } == ["z", "a", "m"])

        let list: [JSONValue] = [.bigInteger("-99999999999999999999"), .integer(1), .double(1)]
        #expect(try roundTrip(list).1 == list)
        #expect(try roundTrip(Optional(payload)).1 == payload)
    }

    @Test("nested containers and super encoders")
    func nestedContainers() throws {
        let value = Containers(header: "h", matrix: [[1, 2], [], [3]], inner: Point(x: 5, y: 6), tail: Point(x: 7, y: 8))
        let (encoded, decoded) = try roundTrip(value)
        #expect(decoded == value)
        #expect(
            encoded == [
                "header": "h",
                "body": ["matrix": [[1, 2], [], [3]], "inner": ["x": 5, "y": 6.0]],
                "tail": ["x": 7, "y": 8.0],
            ])
    }

    @Test("class inheritance through superEncoder and superDecoder")
    func superclass() throws {
        let encoded = try JSONValueEncoder().encode(Dog(name: "Rex", legs: 4))
        #expect(encoded == ["name": "Rex", "super": ["legs": 4]])
        let decoded = try JSONValueDecoder().decode(Dog.self, from: encoded)
        #expect(decoded.name == "Rex")
        #expect(decoded.legs == 4)
    }

    @Test("user info reaches the coded types")
    func userInfo() throws {
        var encoder = JSONValueEncoder()
        encoder.userInfo[UserInfoProbe.key] = "enc"
        #expect(try encoder.encode([UserInfoProbe(seen: "")]) == ["enc"])
        var decoder = JSONValueDecoder()
        decoder.userInfo[UserInfoProbe.key] = "dec"
        #expect(try decoder.decode([UserInfoProbe].self, from: [1]).first?.seen == "dec")
        #expect(try JSONValueDecoder().decode(UserInfoProbe.self, from: 1).seen == "none")
    }

    // MARK: Numbers

    @Test("big integers: beyond Int become bigInteger, and decode where they fit")
    func bigIntegers() throws {
        #expect(try JSONValueEncoder().encode(UInt64.max) == .bigInteger("18446744073709551615"))
        #expect(try JSONValueEncoder().encode(UInt64(Int.max)) == .integer(.max))
        #expect(try JSONValueEncoder().encode([UInt.max]) == [.bigInteger("18446744073709551615")])
        #expect(try JSONValueDecoder().decode(UInt64.self, from: .bigInteger("18446744073709551615")) == .max)
        #expect(try JSONValueDecoder().decode(Int.self, from: .bigInteger("-42")) == -42)

        let huge = JSONValue.bigInteger("123456789012345678901234567890")
        let double = try JSONValueDecoder().decode(Double.self, from: huge)
        #expect(double == 1.2345678901234568e29)

        let error = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(Pair.self, from: ["a": 1, "b": huge])
        }
        guard case .dataCorrupted(let context) = error else {
            Issue.record("expected dataCorrupted, got \(error)")
            return
        }
        #expect(names(context.codingPath) == ["b"])
        #expect(context.debugDescription.contains("123456789012345678901234567890"))

        let tooBigForDouble = JSONValue.bigInteger("1" + String(repeating: "0", count: 400))
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Double.self, from: tooBigForDouble) }
    }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    @Test("Int128 and UInt128 use bigInteger beyond 64 bits")
    func wideIntegers() throws {
        let big = Int128(Int64.max) * 1000 + 7
        let encoded = try JSONValueEncoder().encode(["v": big])
        #expect(encoded == ["v": .bigInteger(String(big))])
        #expect(try JSONValueDecoder().decode([String: Int128].self, from: encoded) == ["v": big])
        #expect(try JSONValueEncoder().encode(Int128(-5)) == -5)
        #expect(try JSONValueDecoder().decode(UInt128.self, from: .bigInteger(String(UInt128.max))) == .max)
        #expect(throws: DecodingError.self) {
            try JSONValueDecoder().decode(UInt128.self, from: .bigInteger("-1"))
        }
    }

    @Test("lossless conversions between integers and floats")
    func numericConversions() throws {
        let decoder = JSONValueDecoder()
        #expect(try decoder.decode(Double.self, from: 3) == 3.0)
        #expect(try decoder.decode(Float.self, from: -2) == -2.0)
        #expect(try decoder.decode(Int.self, from: 3.0) == 3)
        #expect(try decoder.decode(UInt8.self, from: 255.0) == 255)
        #expect(try decoder.decode(Int.self, from: -0.0) == 0)
        #expect(try decoder.decode(Point.self, from: ["x": 4.0, "y": 5]) == Point(x: 4, y: 5))
        #expect(try decoder.decode([Int].self, from: [1, 2.0, .bigInteger("3")]) == [1, 2, 3])
        #expect(try decoder.decode(Float.self, from: 0.1) == Float(0.1))
    }

    @Test("a non-integral or non-finite float read as an integer is a type mismatch")
    func nonIntegralToInteger() throws {
        for value: JSONValue in [1.5, .double(.nan), .double(.infinity)] {
            let error = try #require(throws: DecodingError.self) {
                try JSONValueDecoder().decode(Counted.self, from: ["count": value])
            }
            guard case .typeMismatch(let type, let context) = error else {
                Issue.record("expected typeMismatch, got \(error)")
                continue
            }
            #expect(ObjectIdentifier(type) == ObjectIdentifier(Int.self))
            #expect(names(context.codingPath) == ["count"])
        }
    }

    @Test("an integer out of range of the type is corrupted data")
    func integerOutOfRange() throws {
        let errors = [
            elementError(Int8.self, 300), elementError(UInt.self, -1), elementError(Int.self, 1e20),
            elementError(UInt64.self, .bigInteger("18446744073709551616")), elementError(Float.self, 1e300),
        ]
        for error in errors {
            guard case .dataCorrupted(let context) = error else {
                Issue.record("expected dataCorrupted, got \(String(describing: error))")
                continue
            }
            #expect(names(context.codingPath) == ["Index 0"])
            #expect(context.codingPath.first?.intValue == 0)
        }
    }

    // MARK: Errors

    @Test("type mismatch reports the type and the full coding path")
    func typeMismatch() throws {
        let value: JSONValue = ["items": [["count": 1], ["count": "two"]]]
        let error = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(Inventory.self, from: value)
        }
        guard case .typeMismatch(let type, let context) = error else {
            Issue.record("expected typeMismatch, got \(error)")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(Int.self))
        #expect(names(context.codingPath) == ["items", "Index 1", "count"])
        #expect(context.codingPath[1].intValue == 1)
        #expect(context.debugDescription.contains("string"))
    }

    @Test("type mismatches of containers and scalars")
    func containerMismatch() throws {
        let errors = [
            memberError(Point.self, [1, 2]), memberError([Int].self, ["x": 1]), memberError(Bool.self, 1),
            memberError(Int.self, true), memberError(String.self, 1), memberError(Double.self, "1"),
            memberError(Float.self, []), memberError(String.self, [:]), memberError(UInt8.self, "0"),
        ]
        for error in errors {
            guard case .typeMismatch(_, let context) = error else {
                Issue.record("expected typeMismatch, got \(String(describing: error))")
                continue
            }
            #expect(names(context.codingPath) == ["k"])
        }
    }

    @Test("a missing key reports the key and the path of its object")
    func missingKey() throws {
        let value: JSONValue = ["items": [["count": 1], ["cuont": 2]]]
        let error = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(Inventory.self, from: value)
        }
        guard case .keyNotFound(let key, let context) = error else {
            Issue.record("expected keyNotFound, got \(error)")
            return
        }
        #expect(key.stringValue == "count")
        #expect(names(context.codingPath) == ["items", "Index 1"])

        let topLevel = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(Pair.self, from: ["a": 1])
        }
        guard case .keyNotFound(let topKey, let topContext) = topLevel else {
            Issue.record("expected keyNotFound, got \(topLevel)")
            return
        }
        #expect(topKey.stringValue == "b")
        #expect(topContext.codingPath.isEmpty)
    }

    @Test("null where a value is required is valueNotFound")
    func nullValue() throws {
        let error = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(Shape.self, from: [
                "name": "s", "origin": ["x": 1, "y": nil], "corners": [], "tags": [], "visible": true,
            ])
        }
        guard case .valueNotFound(let type, let context) = error else {
            Issue.record("expected valueNotFound, got \(error)")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(Double.self))
        #expect(names(context.codingPath) == ["origin", "y"])

        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Point.self, from: .null) }
    }

    @Test("an unkeyed container at its end is valueNotFound")
    func unkeyedAtEnd() throws {
        struct Triple: Decodable {
            init(from decoder: any Decoder) throws {
                var container = try decoder.unkeyedContainer()
                #expect(container.count == 2)
                #expect(try container.decodeNil() == false)
                _ = try container.decode(Int.self)
                #expect(try container.decodeNil())
                #expect(container.isAtEnd)
                _ = try container.decode(Int.self)
            }
        }
        let error = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(Triple.self, from: [1, nil])
        }
        guard case .valueNotFound(_, let context) = error else {
            Issue.record("expected valueNotFound, got \(error)")
            return
        }
        #expect(names(context.codingPath) == ["Index 2"])
    }

    @Test("misuse of the encoding containers is an EncodingError")
    func encodingMisuse() throws {
        for value: any Encodable in [Inconsistent(), Twice(), Silent()] {
            #expect(throws: EncodingError.self) { try JSONValueEncoder().encode(value) }
        }
        // A nested value that encodes nothing is an empty object.
        #expect(try JSONValueEncoder().encode([Silent()]) == [[:]])
    }

    // MARK: Foundation

    @Test("JSONValue works with Foundation's JSONEncoder and JSONDecoder for finite values")
    func foundationInterop() throws {
        let value: JSONValue = [
            "null": nil, "bool": false, "int": -7, "max": .integer(.max), "double": 2.5, "string": "héllo",
            "array": [1, "two", [3.25, nil], ["k": true]], "object": ["nested": ["deep": []]],
        ]
        let data = try JSONEncoder().encode(value)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(sortingKeys(decoded) == sortingKeys(value))

        let text = Data(#"{"n": 18446744073709551615, "list": [0.5, -1, "x"], "flag": true}"#.utf8)
        let parsed = try JSONDecoder().decode(JSONValue.self, from: text)
        let expected: JSONValue = ["n": .bigInteger("18446744073709551615"), "list": [0.5, -1, "x"], "flag": true]
        #expect(sortingKeys(parsed) == sortingKeys(expected))

        let wide = try JSONEncoder().encode(JSONValue.bigInteger("-170141183460469231731687303715884105728"))
        #expect(String(decoding: wide, as: UTF8.self) == "-170141183460469231731687303715884105728")
        let wideBack = try JSONDecoder().decode(JSONValue.self, from: wide)
        #expect(wideBack == .bigInteger("-170141183460469231731687303715884105728"))
        #expect(throws: EncodingError.self) {
            try JSONEncoder().encode(JSONValue.bigInteger("1" + String(repeating: "0", count: 40)))
        }

        let holder = Holder(label: "l", payload: ["a": [1, 2]])
        #expect(try JSONDecoder().decode(Holder.self, from: JSONEncoder().encode(holder)) == holder)
    }
}

// MARK: - Helpers

/// The `DecodingError` thrown when decoding `value` as the member `"k"` of an
/// object, as a `T`; `nil` when decoding succeeds or throws something else.
private func memberError<T: Decodable>(_ type: T.Type, _ value: JSONValue) -> DecodingError? {
    do {
        _ = try JSONValueDecoder().decode([String: T].self, from: ["k": value])
        return nil
    } catch {
        return error as? DecodingError
    }
}

/// The same as ``memberError(_:_:)`` for the first element of an array.
private func elementError<T: Decodable>(_ type: T.Type, _ value: JSONValue) -> DecodingError? {
    do {
        _ = try JSONValueDecoder().decode([T].self, from: [value])
        return nil
    } catch {
        return error as? DecodingError
    }
}

/// `value` with the keys of every object sorted, to compare values whose key
/// order went through an unordered coder.
private func sortingKeys(_ value: JSONValue) -> JSONValue {
    switch value {
    case .array(let elements):
        return .array(elements.map(sortingKeys))
    case .object(let object):
        var sorted = JSONObject()
        for key in object.keys.sorted() { sorted[key] = sortingKeys(object[key]!) }
        return .object(sorted)
    default:
        return value
    }
}
