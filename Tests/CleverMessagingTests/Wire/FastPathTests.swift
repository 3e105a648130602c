import NIOCore
import Testing

@testable import CleverMessaging

/// The codec's fast paths against the slow, obviously right ways.
@Suite("Codec fast paths")
struct FastPathTests {
    /// A small deterministic generator (SplitMix64), so failures reproduce.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Parses `text` as one float and checks it against `Double(text)`, bit for bit.
    static func check(_ text: String) {
        guard case .double(let parsed)? = try? JSONParser.parse(text) else {
            Issue.record("\(text) does not parse as a float")
            return
        }
        guard let expected = Double(text) else {
            Issue.record("Double(\(text)) fails")
            return
        }
        #expect(parsed.bitPattern == expected.bitPattern, "\(text): \(parsed) != \(expected)")
    }

    /// Random digit strings: 1 to 25 significant digits, a point anywhere,
    /// exponents around the fast path's edges.
    @Test func randomDecimalTextsMatchDoubleFromString() {
        var generator = Generator(state: 42)
        for _ in 0..<200_000 {
            let digitCount = Int.random(in: 1...25, using: &generator)
            var digits = ""
            for _ in 0..<digitCount { digits.append(Character(String(Int.random(in: 0...9, using: &generator)))) }
            // Strip leading zeros of the integer part (JSON forbids them), keep one.
            let split = Int.random(in: 1...digitCount, using: &generator)
            var integerPart = String(digits.prefix(split))
            while integerPart.count > 1, integerPart.first == "0" { integerPart.removeFirst() }
            let fractionPart = String(digits.dropFirst(split))
            var text = Bool.random(using: &generator) ? "-" : ""
            text += integerPart
            if !fractionPart.isEmpty { text += "." + fractionPart }
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: text += "e\(Int.random(in: -30...30, using: &generator))"
            case 1: text += "E+\(Int.random(in: 0...30, using: &generator))"
            case 2: text += "e\(Int.random(in: -400...400, using: &generator))"
            default: if fractionPart.isEmpty { text += ".0" }
            }
            Self.check(text)
        }
    }

    /// Random doubles written the way Swift and Python write them, and with
    /// fewer digits.
    @Test func randomDoublesRoundTrip() {
        var generator = Generator(state: 7)
        for _ in 0..<100_000 {
            let value = Double(bitPattern: generator.next())
            guard value.isFinite else { continue }
            Self.check(value.description)
            let scaled = Double.random(in: -1e6...1e6, using: &generator)
            Self.check(scaled.description)
            let rounded = (scaled * 1000).rounded() / 1000
            Self.check(rounded.description)
        }
    }

    /// Edge cases of the fast path: 2^53, 10^22, zeros, 19 and 20 digits.
    @Test(arguments: [
        "0.0", "-0.0", "0e0", "-0e-5", "0.000", "0e400", "1e22", "1e23", "-1e22", "1e-22", "1e-23",
        "9007199254740992.0", "9007199254740993.0", "9007199254740991e22", "9007199254740993e-22",
        "1234567890123456789.0", "12345678901234567890.0", "0.1", "0.3", "3.5", "1700000000.5",
        "2.2250738585072014e-308", "1.7976931348623157e308", "5e-324", "1e400", "-1e400", "1e-400",
        "0.30000000000000004", "123456789012345.678", "4.35", "1e0000000000000000000001", "1E+2",
    ])
    func edgeCases(_ text: String) {
        Self.check(text)
    }

    /// Integers stay integers on both sides of the 18-digit fast path.
    @Test func integersAroundTheFastPath() throws {
        #expect(try JSONParser.parse("999999999999999999") == .integer(999_999_999_999_999_999))
        #expect(try JSONParser.parse("-999999999999999999") == .integer(-999_999_999_999_999_999))
        #expect(try JSONParser.parse("9223372036854775807") == .integer(.max))
        #expect(try JSONParser.parse("-9223372036854775808") == .integer(.min))
        #expect(try JSONParser.parse("9223372036854775808") == .bigInteger("9223372036854775808"))
        #expect(try JSONParser.parse("-0") == .integer(0))
    }

    /// Repeated keys: the last value wins, at the first position, in small and large objects.
    @Test func repeatedKeysBehaveLikePython() throws {
        let small = try JSONParser.parse(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(Array(small.objectValue!.keys) == ["a", "b"])
        #expect(small["a"] == 3)
        var members = (0..<40).map { "\"k\($0)\": \($0)" }
        members.append("\"k5\": \"last\"")
        let large = try JSONParser.parse("{" + members.joined(separator: ", ") + "}")
        #expect(large.objectValue!.count == 40)
        #expect(large.objectValue!.keys[5] == "k5")
        #expect(large["k5"] == "last")
        let unique = try JSONParser.parse("{" + (0..<40).map { "\"k\($0)\": [\($0)]" }.joined(separator: ", ") + "}")
        #expect(unique.objectValue!.count == 40)
        #expect(unique["k39"] == [39])
    }

    /// Deep and wide containers outgrow the parser's initial scratch space.
    @Test func largeContainersParse() throws {
        let wide = "[" + (0..<1000).map { "{\"i\": \($0), \"s\": \"x\($0)\"}" }.joined(separator: ", ") + "]"
        let value = try JSONParser.parse(wide)
        #expect(value.arrayValue?.count == 1000)
        #expect(value[999]?["s"] == "x999")
        let deep = String(repeating: "[1, ", count: 300) + "2" + String(repeating: "]", count: 300)
        var inner = try JSONParser.parse(deep)
        for _ in 0..<300 { inner = inner[1]! }
        #expect(inner == 2)
    }

    /// Text longer than the writer's first estimate, and escapes, come out whole.
    @Test func writerOutgrowsItsEstimate() throws {
        let long = String(repeating: "a\"b\\c\u{01}é", count: 5000)
        let value: JSONValue = ["long": .string(long), "list": .array((0..<500).map { .double(Double($0) + 0.25) })]
        let text = JSONWriter.bytes(of: value)
        #expect(try JSONParser.parse(text) == value)
        var writer = FrameWriter(marker: "x-marker")
        var out = ByteBuffer()
        // The header must stay within its 65535-byte limit.
        let medium = String(repeating: "a\"b\\c\u{01}é", count: 3000)
        let frame = Frame.action("go", args: [.string(long)], extra: ["big": .string(medium)])
        try writer.write(frame, into: &out)
        var decoder = FrameDecoder()
        guard case .frame(let decoded)? = try decoder.decode(buffer: &out) else {
            Issue.record("no frame")
            return
        }
        #expect(decoded.content == frame.content)
        #expect(decoded.header.extra["big"] == .string(medium))
        #expect(decoded.header.extra["x-marker"] == 1)
        #expect(out.readableBytes == 0)
    }

    /// A header too long for its prefix takes back everything written for the frame.
    @Test func tooLongHeaderLeavesTheBufferAsItWas() {
        var writer = FrameWriter()
        var out = ByteBuffer(bytes: [1, 2, 3])
        let frame = Frame.action("go", args: [1, 2], extra: ["big": .string(String(repeating: "x", count: 70_000))])
        #expect(throws: FrameEncodingError.self) { try writer.write(frame, into: &out) }
        #expect(Array(out.readableBytesView) == [1, 2, 3])
    }
}
