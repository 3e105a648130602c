import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// A named frame for parameterized round trips.
struct RoundTripCase: Sendable, CustomTestStringConvertible {
    var name: String
    var frame: Frame
    var testDescription: String { name }
}

/// Encode → decode round trips of every kind of frame and of JSON values.
@Suite("Encode/decode round trips")
struct RoundTripTests {
    /// `frame` encoded by ``FrameEncoder`` and decoded by ``FrameDecoder``.
    static func roundTrip(_ frame: Frame) throws -> Frame {
        try WireTestKit.decodeSingleFrame(try WireTestKit.encode(frame))
    }

    /// `value` sent as the value of a response and read back.
    static func roundTripValue(_ value: JSONValue) throws -> JSONValue? {
        let frame = try roundTrip(.response("v", id: "0001", value: value))
        return frame.content.jsonValue?["value"]
    }

    /// 0...255, each once.
    static let allByteValues = ByteBuffer(bytes: (0...255).map { UInt8($0) })

    /// 64 KiB + 17 of seeded pseudo-random bytes.
    static let randomBlob: ByteBuffer = {
        var rng = WireTestKit.SeededRNG(seed: 7)
        return ByteBuffer(bytes: (0..<(65536 + 17)).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }()

    static let frameCases: [RoundTripCase] = [
        // 3.1 action messages
        .init(name: "action, no args", frame: .action("test")),
        .init(
            name: "action, args and kwargs",
            frame: .action("start", args: [1, "two", 3.5, nil, true, false], kwargs: ["time": "1700000000.5", "n": -3])
        ),
        .init(
            name: "action, extra header keys",
            frame: .action(
                "led",
                args: [[1, 2, 3]],
                extra: [
                    "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    "x-ext": ["nested": [1, 2.5, nil], "flag": true],
                    "ключ": "значение",
                    "x-num": .bigInteger("-123456789012345678901234567890"),
                ]
            )
        ),
        .init(name: "action, non-ASCII name", frame: .action("светодиод ✈ 🚁", kwargs: ["ä": "ö"])),
        .init(name: "action, big-endian sender", frame: {
            var f = Frame.action("be")
            f.header.byteOrder = .big
            return f
        }()),
        // 3.2 file pushes
        .init(name: "file push", frame: .filePush(path: "animation.csv", bytes: ByteBuffer(string: "frame,x,y,z\n0,0.0,0.0,1.0\n"))),
        .init(name: "file push, empty", frame: .filePush(path: "empty.txt", bytes: ByteBuffer())),
        .init(name: "file push, all 256 byte values", frame: .filePush(path: "bytes.bin", bytes: allByteValues)),
        .init(name: "file push, 64 KiB random", frame: .filePush(path: "dir/sub/blob.bin", bytes: randomBlob)),
        .init(
            name: "file push, sha256 extension and non-ASCII path",
            frame: .filePush(path: "файлы/анимация №1.csv", bytes: ByteBuffer(string: "x"), extra: ["sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"])
        ),
        // 3.3 requests
        .init(name: "request, string id", frame: .request("time", id: "0042")),
        .init(name: "request, numeric id", frame: .request("time", id: 42)),
        .init(name: "request, big integer id", frame: .request("time", id: .bigInteger("123456789012345678901234567890"))),
        .init(name: "request, float id", frame: .request("time", id: 1.5)),
        .init(name: "request, kwargs", frame: .request("config", id: "9999", args: ["a"], kwargs: ["send_configspec": true])),
        .init(name: "request, filetransfer", frame: .request("filetransfer", id: "0007", kwargs: ["filepath": "config/client.ini"])),
        .init(name: "request, extra header key", frame: .request("time", id: "0001", extra: ["x-timeout": 2.5])),
        // 3.4 responses
        .init(name: "value response, float", frame: .response("time", id: "0042", value: 1700000000.25)),
        .init(name: "value response, null", frame: .response("anim_id", id: "0001", value: nil)),
        .init(name: "value response, numeric id", frame: .response("anim_id", id: 17, value: "ok")),
        .init(
            name: "value response, dict",
            frame: .response("telemetry", id: "0100", value: ["battery": [12.1, 0.87], "mode": "OFFBOARD", "armed": false, "pos": nil])
        ),
        .init(name: "value response, error extension", frame: .response("x", id: "0003", value: nil, extra: ["error": "unknown request"])),
        .init(name: "file response", frame: .fileResponse(id: "0007", bytes: ByteBuffer(string: "[SERVER]\nport = 25000\n"))),
        .init(name: "file response, empty", frame: .fileResponse(id: "0008", bytes: ByteBuffer())),
        .init(name: "file response, all 256 byte values, numeric id", frame: .fileResponse(id: 8, bytes: allByteValues)),
        .init(name: "file push from a buffer whose reader index moved", frame: {
            var bytes = ByteBuffer(string: "skip-me:payload")
            bytes.moveReaderIndex(forwardBy: 8)
            return .filePush(path: "sliced.txt", bytes: bytes)
        }()),
        .init(name: "stale content-length in the header is replaced", frame: {
            var f = Frame.filePush(path: "stale.bin", bytes: ByteBuffer(string: "12345"))
            f.header.contentLength = 999
            return f
        }()),
        // Other header values the protocol tolerates
        .init(
            name: "unknown content-type is bytes",
            frame: Frame(header: FrameHeader(contentType: .other("text/plain"), messageType: .message, action: "x"), content: .binary(ByteBuffer(string: "hi")))
        ),
        .init(
            name: "unknown message-type",
            frame: Frame(header: FrameHeader(contentType: .json, messageType: .other("event"), extra: ["k": 1]), content: .json([1, 2]))
        ),
        .init(
            name: "content-encoding spelled utf8",
            frame: Frame(header: FrameHeader(contentType: .json, contentEncoding: "utf8", messageType: .message, action: "a"), content: .json("ü"))
        ),
    ]

    @Test("every kind of frame survives encode → decode", arguments: frameCases)
    func frameRoundTrip(_ testCase: RoundTripCase) throws {
        let decoded = try Self.roundTrip(testCase.frame)
        #expect(decoded == WireTestKit.normalized(testCase.frame))
        // The extension keys keep their order.
        #expect(Array(decoded.header.extra.keys) == Array(testCase.frame.header.extra.keys))
    }

    @Test("all frame kinds back to back through MessageToByteHandler and ByteToMessageHandler")
    func pipelineRoundTrip() throws {
        let sender = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
        let receiver = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        for testCase in Self.frameCases { try sender.writeOutbound(testCase.frame) }
        var assembler = WireTestKit.PartAssembler()
        var frames: [Frame] = []
        while let bytes = try sender.readOutbound(as: ByteBuffer.self) {
            try receiver.writeInbound(bytes)
            while let part = try receiver.readInbound(as: FramePart.self) {
                if let frame = try assembler.absorb(part) { frames.append(frame) }
            }
        }
        #expect(frames == Self.frameCases.map { WireTestKit.normalized($0.frame) })
        #expect(!assembler.isInsideBinaryFrame)
        _ = try receiver.finish()
        #expect(try sender.finish().isClean)
    }

    @Test("all frame kinds back to back in one buffer")
    func concatenatedRoundTrip() throws {
        let bytes = try WireTestKit.encode(Self.frameCases.map(\.frame))
        let frames = try WireTestKit.decodeFrames(bytes)
        #expect(frames == Self.frameCases.map { WireTestKit.normalized($0.frame) })
    }

    @Test("request_id is echoed with its JSON type: string stays string, number stays number")
    func requestIDTypes() throws {
        let stringID = try Self.roundTrip(.request("t", id: "0042"))
        #expect(stringID.content.jsonValue?["request_id"] == .string("0042"))
        let numberID = try Self.roundTrip(.request("t", id: 42))
        #expect(numberID.content.jsonValue?["request_id"] == .integer(42))
        #expect(numberID.content.jsonValue?["request_id"] != .string("42"))

        let stringResponse = try Self.roundTrip(.response("t", id: "0042", value: 1))
        #expect(stringResponse.header.requestID == .string("0042"))
        let numberResponse = try Self.roundTrip(.response("t", id: 42, value: 1))
        #expect(numberResponse.header.requestID == .integer(42))
        let fileResponse = try Self.roundTrip(.fileResponse(id: 9, bytes: ByteBuffer(string: "z")))
        #expect(fileResponse.header.requestID == .integer(9))
        #expect(fileResponse.header.requestedValue == "filetransfer")
    }

    @Test("extra header keys are preserved with their values and order")
    func extraHeaderKeys() throws {
        let extra: JSONObject = ["z-last": 1, "a-first": "x", "sha256": "00ff", "nested": ["k": [1, 2.0]], "nan": .double(.nan)]
        let decoded = try Self.roundTrip(.filePush(path: "p", bytes: ByteBuffer(string: "data"), extra: extra))
        #expect(decoded.header.extra == extra)
        #expect(Array(decoded.header.extra.keys) == ["z-last", "a-first", "sha256", "nested", "nan"])
        #expect(decoded.header.filePath == "p")
        #expect(decoded.header.action == "filetransfer")
    }

    @Test("binary content: all 256 byte values, byte for byte")
    func allBytes() throws {
        let decoded = try Self.roundTrip(.filePush(path: "b", bytes: Self.allByteValues))
        #expect(decoded.content.bytes.map { Array($0.readableBytesView) } == (0...255).map { UInt8($0) })
        #expect(decoded.header.contentLength == 256)
    }

    // MARK: - JSON values

    @Test("NaN and the infinities come back as floats")
    func nonFinite() throws {
        let value = try Self.roundTripValue([.double(.nan), .double(.infinity), .double(-.infinity)])
        guard case .double(let nan)? = value?[0], case .double(let inf)? = value?[1], case .double(let minf)? = value?[2]
        else {
            Issue.record("not three doubles: \(String(describing: value))")
            return
        }
        #expect(nan.isNaN)
        #expect(inf == .infinity)
        #expect(minf == -.infinity)
        #expect(JSONWriter.bytes(of: [.double(.nan), .double(.infinity), .double(-.infinity)]) == Array("[NaN, Infinity, -Infinity]".utf8))
    }

    @Test("-0.0 keeps its sign")
    func negativeZero() throws {
        #expect(JSONWriter.bytes(of: .double(-0.0)) == Array("-0.0".utf8))
        guard case .double(let d)? = try Self.roundTripValue(.double(-0.0)) else {
            Issue.record("-0.0 did not come back as a float")
            return
        }
        #expect(d == 0 && d.sign == .minus)
        // And the integer -0 is just 0, as in Python.
        #expect(try JSONParser.parse("-0") == .integer(0))
    }

    static let bigIntegers: [String] = [
        "12345678901234567890",
        "-12345678901234567890",
        "9223372036854775808",  // Int.max + 1
        "-9223372036854775809",  // Int.min - 1
        "18446744073709551616",  // 2^64
        String(repeating: "9", count: 20),
        "1" + String(repeating: "0", count: 299),
        "-" + String(repeating: "7", count: 300),
        String((0..<300).map { Character(String($0 % 10 == 0 ? 1 : $0 % 10)) }),
    ]

    @Test("integers beyond 64 bits keep every digit", arguments: bigIntegers)
    func bigInteger(_ digits: String) throws {
        let value = JSONValue.bigInteger(digits)
        #expect(try Self.roundTripValue(value) == value)
        #expect(try JSONParser.parse(digits) == value)
        #expect(JSONWriter.bytes(of: value) == Array(digits.utf8))
    }

    @Test("64-bit boundaries stay plain integers")
    func integerBoundaries() throws {
        for i in [Int.max, Int.min, 0, -1, 1, 999_999_999_999_999_999, -999_999_999_999_999_999, 1_000_000_000_000_000_000] {
            #expect(try Self.roundTripValue(.integer(i)) == .integer(i))
            #expect(try JSONParser.parse(String(i)) == .integer(i))
        }
    }

    @Test("int and float are kept apart: 1 vs 1.0, 1e16 stays a float")
    func intVersusFloat() throws {
        #expect(try Self.roundTripValue(1) == .integer(1))
        #expect(try Self.roundTripValue(1.0) == .double(1.0))
        #expect(try Self.roundTripValue(1.0) != .integer(1))
        #expect(JSONWriter.bytes(of: 1.0) == Array("1.0".utf8))
        #expect(JSONWriter.bytes(of: 1) == Array("1".utf8))
        #expect(try Self.roundTripValue(.double(1e16)) == .double(1e16))
        #expect(try JSONParser.parse("1e16") == .double(1e16))
        #expect(try JSONParser.parse("10000000000000000") == .integer(10_000_000_000_000_000))
        #expect(try JSONParser.parse("1.0") == .double(1.0))
        #expect(try JSONParser.parse("1E2") == .double(100))
        #expect(try JSONParser.parse("-2.5e-3") == .double(-0.0025))
        for d in [1e16, 1e17, 1e22, 1e300, -1e300, Double.leastNonzeroMagnitude, 0.1, 1e-5, 123456789.125, 2.0.squareRoot(), Double.greatestFiniteMagnitude, -Double.leastNormalMagnitude, 9007199254740993.0] {
            let text = JSONWriter.bytes(of: .double(d))
            #expect(text.contains(UInt8(ascii: ".")) || text.contains(UInt8(ascii: "e")), "\(d) written without . or e")
            guard case .double(let back)? = try Self.roundTripValue(.double(d)) else {
                Issue.record("\(d) did not come back as a float")
                continue
            }
            #expect(back.bitPattern == d.bitPattern, "\(d)")
        }
    }

    @Test("1000 random finite doubles come back bit for bit")
    func randomDoubles() throws {
        var rng = WireTestKit.SeededRNG(seed: 2024)
        var values: [JSONValue] = []
        while values.count < 1000 {
            let d = Double(bitPattern: rng.next())
            if d.isFinite { values.append(.double(d)) }
        }
        guard case .array(let back)? = try Self.roundTripValue(.array(values)) else {
            Issue.record("no array back")
            return
        }
        #expect(back.count == values.count)
        for (a, b) in zip(values, back) {
            guard case .double(let x) = a, case .double(let y) = b else {
                Issue.record("\(b) is not a float")
                continue
            }
            #expect(x.bitPattern == y.bitPattern, "\(x) came back as \(y)")
        }
    }

    static let unicodeStrings: [String] = [
        "Дрон №7 ✈",
        "🚁",
        "👍🏽 family: 👨‍👩‍👧‍👦",
        "𝄞 music, 𐍈 gothic, 🀄 mahjong",
        "中文 日本語 한국어",
        "e\u{301} vs \u{e9}",
        "\u{FEFF}BOM inside",
        "\u{2028}\u{2029} separators",
        "\u{7F} DEL and \u{80} PAD \u{9F}",
        "\u{FFFF}\u{10FFFF}",
        "",
    ]

    @Test("unicode text, astral plane included, comes back scalar for scalar", arguments: unicodeStrings)
    func unicode(_ text: String) throws {
        let back = try Self.roundTripValue(.string(text))?.stringValue
        #expect(back.map { Array($0.unicodeScalars) } == Array(text.unicodeScalars))
        // Non-ASCII is written raw, as the reference does (ensure_ascii=False).
        #expect(JSONWriter.bytes(of: .string(text)) == [UInt8(ascii: "\"")] + Array(text.utf8) + [UInt8(ascii: "\"")])
        // As an object key too.
        let keyed = try Self.roundTripValue(.object([text: 1]))
        #expect(keyed?.objectValue.map { $0.keys.map { Array($0.unicodeScalars) } } == [Array(text.unicodeScalars)])
    }

    @Test("control characters, quote and backslash are escaped and come back")
    func controlCharacters() throws {
        let text = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) })) + "\"\\/ end"
        let written = JSONWriter.bytes(of: .string(text))
        #expect(!written.dropFirst().dropLast().contains { $0 < 0x20 }, "raw control byte written")
        let writtenText = String(decoding: written, as: UTF8.self)
        for escape in ["\\u0000", "\\u0001", "\\u001f", "\\b", "\\t", "\\n", "\\f", "\\r", "\\\"", "\\\\"] {
            #expect(writtenText.contains(escape), "missing \(escape) in \(writtenText)")
        }
        let back = try Self.roundTripValue(.string(text))?.stringValue
        #expect(back.map { Array($0.unicodeScalars) } == Array(text.unicodeScalars))
        // Keys are escaped the same way.
        #expect(try Self.roundTripValue(.object([text: .string(text)])) == .object([text: .string(text)]))
    }

    @Test("object keys keep their order")
    func keyOrder() throws {
        let keys = ["z", "a", "m", "b", "ä", "", "10", "2", "A", "kwargs", "args"]
        var object = JSONObject()
        for (i, key) in keys.enumerated() { object[key] = .integer(i) }
        let back = try Self.roundTripValue(.object(object))
        #expect(back?.objectValue.map { Array($0.keys) } == keys)
        // The frame content itself keeps the reference's order.
        let request = try Self.roundTrip(.request("r", id: "1", args: [], kwargs: ["b": 1, "a": 2]))
        #expect(request.content.jsonValue?.objectValue.map { Array($0.keys) } == ["requested_value", "request_id", "args", "kwargs"])
        #expect(request.content.jsonValue?["kwargs"]?.objectValue.map { Array($0.keys) } == ["b", "a"])
    }

    @Test("nested structures and empty containers")
    func nested() throws {
        let value: JSONValue = [
            "empty": ["a": [], "o": [:], "s": ""],
            "list": [[], [[]], [[:]], [1, [2, [3, [4, ["deep": [nil, true, false]]]]]]],
            "mixed": [
                ["id": 1, "pos": [0.5, -1.25, 3.0], "tags": ["a", "b"], "big": .bigInteger("-99999999999999999999")],
                ["id": 2, "pos": [.double(.nan), .double(.infinity), 0], "tags": [], "big": nil],
            ],
        ]
        #expect(try Self.roundTripValue(value) == value)

        // 500 levels: within the default depth limit of 512 (the content adds one).
        var deep: JSONValue = "bottom"
        for i in 0..<500 { deep = i.isMultiple(of: 2) ? [deep] : ["k": deep] }
        #expect(try Self.roundTripValue(deep) == deep)
    }

    @Test("value → text → value for a corpus of JSON values")
    func corpus() throws {
        let corpus: [JSONValue] = [
            nil, true, false, 0, -1, .integer(.max), .integer(.min), 0.0, -0.0, 0.5, .double(.nan), "", "a\u{0}b",
            [], [:], [nil], ["": nil], [[[[[]]]]], ["a": ["b": ["c": [:]]]],
            .bigInteger(String(repeating: "1", count: 4300)),
            .bigInteger("-" + String(repeating: "2", count: 4300)),
        ]
        for value in corpus {
            let text = JSONWriter.bytes(of: value)
            #expect(try JSONParser.parse(text) == value, "\(value)")
        }
    }
}
