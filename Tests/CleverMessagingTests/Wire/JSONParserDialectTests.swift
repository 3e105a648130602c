import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// The JSON dialect: what must be accepted.
@Suite("JSON parser dialect")
struct JSONParserDialectTests {
    @Test("whitespace: space, tab, CR and LF anywhere between tokens")
    func whitespace() throws {
        #expect(try JSONParser.parse(" \t\r\n1 \t\r\n") == 1)
        #expect(try JSONParser.parse("\n{ \"a\" :\t[ 1 ,\r\n2 ] , \"b\"\n:\nnull }\t") == ["a": [1, 2], "b": nil])
        #expect(try JSONParser.parse("[ ]") == [])
        #expect(try JSONParser.parse("{\n}") == [:])
    }

    @Test("literals and non-finite numbers")
    func literals() throws {
        #expect(try JSONParser.parse("true") == true)
        #expect(try JSONParser.parse("false") == false)
        #expect(try JSONParser.parse("null") == nil)
        #expect(try JSONParser.parse("NaN").doubleValue?.isNaN == true)
        #expect(try JSONParser.parse("Infinity") == .double(.infinity))
        #expect(try JSONParser.parse("-Infinity") == .double(-.infinity))
        #expect(try JSONParser.parse("[NaN,Infinity,-Infinity]").arrayValue?.count == 3)
    }

    @Test("numbers: int vs float, sizes, exponents")
    func numbers() throws {
        #expect(try JSONParser.parse("0") == .integer(0))
        #expect(try JSONParser.parse("-0") == .integer(0))
        #expect(try JSONParser.parse("-0.0") == .double(-0.0))
        #expect(try JSONParser.parse("1.0") == .double(1))
        #expect(try JSONParser.parse("1e2") == .double(100))
        #expect(try JSONParser.parse("1E+2") == .double(100))
        #expect(try JSONParser.parse("1e-2") == .double(0.01))
        #expect(try JSONParser.parse("0.5e1") == .double(5))
        #expect(try JSONParser.parse("9223372036854775807") == .integer(.max))
        #expect(try JSONParser.parse("-9223372036854775808") == .integer(.min))
        #expect(try JSONParser.parse("9223372036854775808") == .bigInteger("9223372036854775808"))
        #expect(try JSONParser.parse("-9223372036854775809") == .bigInteger("-9223372036854775809"))
        #expect(try JSONParser.parse("999999999999999999") == .integer(999_999_999_999_999_999))
        #expect(try JSONParser.parse("1000000000000000000") == .integer(1_000_000_000_000_000_000))
        let digits4300 = String(repeating: "5", count: 4300)
        #expect(try JSONParser.parse(digits4300) == .bigInteger(digits4300))
        // Python reads out-of-range floats as infinities and underflows to 0.
        #expect(try JSONParser.parse("1e400") == .double(.infinity))
        #expect(try JSONParser.parse("-1e400") == .double(-.infinity))
        #expect(try JSONParser.parse("1e-400") == .double(0))
        // Long fractions are floats whatever their length.
        #expect(try JSONParser.parse("0." + String(repeating: "3", count: 5000)).doubleValue.map { abs($0 - 1.0 / 3) < 1e-15 } == true)
        // A tighter integer limit applies.
        #expect(throws: JSONParsingError.integerTooLong(digits: 4, limit: 3, offset: 1)) {
            try JSONParser.parse("[1234]", limits: JSONParsingLimits(maximumIntegerDigits: 3))
        }
    }

    @Test("escapes: all short forms, \\u in both cases, surrogate pairs")
    func escapes() throws {
        let text = #""\"\\\/\b\f\n\r\t\u0041\u00e9\u00E9\u20AC\ud83d\ude81\u0000""#
        let expected = "\"\\/\u{8}\u{C}\n\r\tAéé€🚁\u{0}"
        #expect(try JSONParser.parse(text).stringValue.map { Array($0.unicodeScalars) } == Array(expected.unicodeScalars))
        #expect(try JSONParser.parse(#""\u0065\u0301""#).stringValue.map { Array($0.unicodeScalars) } == ["e", "\u{301}"])
        #expect(try JSONParser.parse(#"{"\u006b\u0065\u0079": 1}"#) == ["key": 1])
    }

    @Test("raw UTF-8, DEL and non-characters are accepted unescaped")
    func rawUTF8() throws {
        #expect(try JSONParser.parse("\"Дрон №7 ✈ 🚁\"") == "Дрон №7 ✈ 🚁")
        #expect(try JSONParser.parse("\"\u{7F}\u{2028}\u{FFFF}\"") == .string("\u{7F}\u{2028}\u{FFFF}"))
        #expect(try JSONParser.parse("{\"ключ\": \"значение\"}") == ["ключ": "значение"])
    }

    @Test("duplicate keys: the last value wins, at the first key's position (as in Python)")
    func duplicateKeys() throws {
        let value = try JSONParser.parse(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(value == ["a": 3, "b": 2])
        #expect(value.objectValue.map { Array($0.keys) } == ["a", "b"])
        #expect(value.objectValue.map { Array($0.values) } == [3, 2])
        // Keys that are equal once unescaped are the same key.
        let escaped = try JSONParser.parse(#"{"k": 1, "x": 0, "\u006b": 2}"#)
        #expect(escaped.objectValue.map { Array($0.keys) } == ["k", "x"])
        #expect(escaped["k"] == 2)
    }

    @Test("duplicate header keys: the last value wins, extras keep their first position")
    func duplicateHeaderKeys() throws {
        let header = #"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": 2, "message-type": "message", "x-a": 1, "action": "first", "x-b": 2, "action": "second", "x-a": 3}"#
        let frame = try WireTestKit.decodeSingleFrame(WireTestKit.rawFrame(header: header, content: Array("{}".utf8)))
        #expect(frame.header.action == "second")
        #expect(Array(frame.header.extra.keys) == ["x-a", "x-b"])
        #expect(frame.header.extra["x-a"] == 3)
    }

    @Test("a repeated header key is judged on its last value only, as Python's dict keeps only that one")
    func duplicateHeaderKeyLastValueWins() throws {
        // Python: json.loads(header)["content-length"] == 2 and ["action"] == "a"; the reference accepts this frame.
        let header = #"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": "two", "content-length": 2, "message-type": "message", "action": 1, "action": "a"}"#
        let frame = try WireTestKit.decodeSingleFrame(WireTestKit.rawFrame(header: header, content: Array("{}".utf8)))
        #expect(frame.header.contentLength == 2)
        #expect(frame.header.action == "a")
    }

    @Test("object keys are compared by code points, as in Python: canonically equivalent keys stay apart")
    func canonicallyEquivalentKeys() throws {
        // Known limitation: JSONObject keys are Swift Strings, which compare by canonical
        // equivalence, so "\u00e9" and "e\u0301" collapse into one key (the last value wins).
        // Python keeps both. Recorded here so a fix shows up as "known issue not recorded".
        withKnownIssue("JSONObject keys use String equality (canonical equivalence), not code points") {
            // Python: json.loads('{"\u00e9": 1, "e\u0301": 2}') has two keys; none is lost.
            let value = try JSONParser.parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}")
            #expect(value.objectValue?.count == 2, "a key was lost: \(value)")
            let viaEscapes = try JSONParser.parse(#"{"\u00e9": 1, "e\u0301": 2}"#)
            #expect(viaEscapes.objectValue?.count == 2, "a key was lost: \(viaEscapes)")
            // Header extension keys too.
            let header = "{\"byteorder\": \"little\", \"content-type\": \"json\", \"content-encoding\": \"utf-8\", \"content-length\": 2, \"message-type\": \"message\", \"x-\u{C5}\": 1, \"x-A\u{30A}\": 2}"
            let frame = try WireTestKit.decodeSingleFrame(WireTestKit.rawFrame(header: header, content: Array("{}".utf8)))
            #expect(frame.header.extra.count == 2, "an extension key was lost: \(frame.header.extra)")
        }
    }

    @Test("header keys may be escaped, spaced and in any order")
    func headerSpellings() throws {
        let header = "{ \"message-type\":\"request\",\"content\\u002dlength\" : 2,\n\"content-encoding\":\"UTF-8\",\t\"byteorder\":\"big\",\"content-type\":\"json\" }"
        let frame = try WireTestKit.decodeSingleFrame(WireTestKit.rawFrame(header: header, content: Array("[]".utf8)))
        #expect(frame.header.messageType == .request)
        #expect(frame.header.contentLength == 2)
        #expect(frame.header.byteOrder == .big)
        #expect(frame.header.contentEncoding == "UTF-8")
        #expect(frame.header.extra.isEmpty)
        #expect(frame.content == .json([]))
    }

    @Test("nesting up to the limit is accepted")
    func nestingAtLimit() throws {
        let text = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        var value = try JSONParser.parse(text)
        var depth = 0
        while case .array(let elements) = value {
            depth += 1
            guard let first = elements.first else { break }
            value = first
        }
        #expect(depth == 512)
    }
}
