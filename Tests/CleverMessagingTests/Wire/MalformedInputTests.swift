import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

@Suite("Malformed input")
struct MalformedInputTests {
    typealias Kit = WireTestKit

    /// Decodes `bytes` with one decoder; ends the stream (decodeLast) when asked.
    static func decodeAll(
        _ bytes: [UInt8],
        configuration: FrameCodecConfiguration = .init(),
        endOfStream: Bool = true
    ) throws -> [FramePart] {
        var decoder = FrameDecoder(configuration: configuration)
        var buffer = ByteBuffer(bytes: bytes)
        var parts: [FramePart] = []
        while let part = try decoder.decode(buffer: &buffer) { parts.append(part) }
        if endOfStream {
            while let part = try decoder.decodeLast(buffer: &buffer, seenEOF: true) { parts.append(part) }
        }
        return parts
    }

    /// A header text with the required keys and `key` replaced by raw JSON (or removed).
    static func header(_ key: String? = nil, _ json: String? = nil, contentType: String = "json", length: Int = 0) -> String {
        Kit.headerText(contentType: contentType, contentLength: length, replacing: key, with: json)
    }

    /// A frame with a valid header for `content` (JSON by default).
    static func frame(_ content: [UInt8], contentType: String = "json", extra: [(key: String, json: String)] = []) -> [UInt8] {
        Kit.rawFrame(header: Kit.headerText(contentType: contentType, contentLength: content.count, extra: extra), content: content)
    }

    static let goodFrame: [UInt8] = frame(Array(#"{"args": [], "kwargs": {}}"#.utf8), extra: [("action", #""ok""#)])
    static let deepArrays = String(repeating: "[", count: 100_000)

    // MARK: - Frame-level cases

    static let frameCases: [MalformedFrameCase] = {
        var cases: [MalformedFrameCase] = []
        func add(_ name: String, _ bytes: [UInt8], _ expected: FrameDecodingError, configuration: FrameCodecConfiguration = .init(), endOfStream: Bool = true) {
            cases.append(MalformedFrameCase(name: name, bytes: bytes, expected: expected, configuration: configuration, endOfStream: endOfStream))
        }
        func addHeader(_ name: String, _ headerText: String, _ expected: FrameDecodingError) {
            add(name, Kit.rawFrame(header: headerText), expected)
        }

        // Truncations (the stream ends inside a frame).
        let h26 = Kit.headerText(contentLength: 26, extra: [("action", #""t""#)])
        let n26 = h26.utf8.count
        let json26 = Kit.rawFrame(header: h26, content: Array(#"{"args": [], "kwargs": {}}"#.utf8))
        add("truncated: one byte of the length prefix", [0x00], .truncatedFrame(expected: 2, received: 1))
        add("truncated: length prefix only", Array(json26.prefix(2)), .truncatedFrame(expected: 2 + n26, received: 2))
        add("truncated: prefix and one header byte", Array(json26.prefix(3)), .truncatedFrame(expected: 2 + n26, received: 3))
        add("truncated: half the header", Array(json26.prefix(2 + n26 / 2)), .truncatedFrame(expected: 2 + n26, received: 2 + n26 / 2))
        add("truncated: header minus its last byte", Array(json26.prefix(1 + n26)), .truncatedFrame(expected: 2 + n26, received: 1 + n26))
        add("truncated: JSON header complete, no content", Array(json26.prefix(2 + n26)), .truncatedFrame(expected: 26, received: 0))
        add("truncated: JSON content half", Array(json26.prefix(2 + n26 + 13)), .truncatedFrame(expected: 26, received: 13))
        add("truncated: JSON content minus its last byte", Array(json26.dropLast()), .truncatedFrame(expected: 26, received: 25))
        let bin = frame(Array("0123456789".utf8), contentType: "binary")
        add("truncated: binary header complete, no body", Array(bin.dropLast(10)), .truncatedFrame(expected: 10, received: 0))
        add("truncated: binary body half", Array(bin.dropLast(5)), .truncatedFrame(expected: 10, received: 5))
        add("truncated: binary body minus its last byte", Array(bin.dropLast()), .truncatedFrame(expected: 10, received: 9))
        add("truncated: good frame then one byte", goodFrame + [0x01], .truncatedFrame(expected: 2, received: 1))
        add("header length larger than the data", [0xFF, 0xFF] + Array("{}".utf8), .truncatedFrame(expected: 65537, received: 4))

        // The header is not a usable JSON object.
        add("header length 0", [0x00, 0x00] + Array("{}".utf8), .headerNotJSON(.unexpectedEndOfInput(offset: 0)))
        add("header length 0, nothing else", [0x00, 0x00], .headerNotJSON(.unexpectedEndOfInput(offset: 0)))
        addHeader("header not JSON", "hello", .headerNotJSON(.unexpectedByte(UInt8(ascii: "h"), offset: 0)))
        addHeader("header only whitespace", "   ", .headerNotJSON(.unexpectedEndOfInput(offset: 3)))
        addHeader("header is a JSON array", #"["byteorder", "little"]"#, .headerNotObject)
        addHeader("header is a JSON string", #""{\"byteorder\": \"little\"}""#, .headerNotObject)
        addHeader("header is a JSON number", "42", .headerNotObject)
        addHeader("header is null", "null", .headerNotObject)
        addHeader("header is true", "true", .headerNotObject)
        addHeader("header is NaN", "NaN", .headerNotObject)
        addHeader("header is an unterminated array", "[1, 2", .headerNotJSON(.unexpectedEndOfInput(offset: 5)))
        let complete = header(length: 0)
        addHeader("header with trailing data", complete + " x", .headerNotJSON(.trailingData(offset: complete.utf8.count + 1)))
        addHeader("header with two objects", complete + complete, .headerNotJSON(.trailingData(offset: complete.utf8.count)))
        addHeader("header object cut short", #"{"byteorder": "little""#, .headerNotJSON(.unexpectedEndOfInput(offset: 22)))
        addHeader("header with a trailing comma", #"{"byteorder": "little",}"#, .headerNotJSON(.unexpectedByte(UInt8(ascii: "}"), offset: 23)))
        addHeader("header with single quotes", #"{'byteorder': 'little'}"#, .headerNotJSON(.unexpectedByte(UInt8(ascii: "'"), offset: 1)))

        // Required keys.
        addHeader("empty header object", "{}", .missingRequiredKey("byteorder"))
        for key in ["byteorder", "content-type", "content-encoding", "content-length", "message-type"] {
            addHeader("missing \(key)", header(key, nil), .missingRequiredKey(key))
        }

        // content-length.
        let lengthCases: [(String, String, JSONValue)] = [
            ("negative", "-1", .integer(-1)),
            ("float", "5.0", .double(5)),
            ("exponent", "1e3", .double(1000)),
            ("string", #""5""#, .string("5")),
            ("true", "true", .bool(true)),
            ("false", "false", .bool(false)),
            ("null", "null", .null),
            ("array", "[5]", [5]),
            ("object", #"{"n": 5}"#, ["n": 5]),
            ("NaN", "NaN", .double(.nan)),
            ("Infinity", "Infinity", .double(.infinity)),
            ("huge big integer", "99999999999999999999999999", .bigInteger("99999999999999999999999999")),
            ("huge negative big integer", "-99999999999999999999", .bigInteger("-99999999999999999999")),
            ("2^63", "9223372036854775808", .bigInteger("9223372036854775808")),
        ]
        for (name, json, value) in lengthCases {
            addHeader("content-length \(name)", header("content-length", json), .invalidContentLength(value))
        }

        // Other typed header keys.
        let littleOrBig = "\"little\" or \"big\""
        addHeader("byteorder invalid", header("byteorder", #""middle""#), .invalidHeaderValue(key: "byteorder", value: "middle", expected: littleOrBig))
        addHeader("byteorder is case-sensitive", header("byteorder", #""LITTLE""#), .invalidHeaderValue(key: "byteorder", value: "LITTLE", expected: littleOrBig))
        addHeader("byteorder not a string", header("byteorder", "1"), .invalidHeaderValue(key: "byteorder", value: 1, expected: "a string"))
        addHeader("content-type not a string", header("content-type", "1"), .invalidHeaderValue(key: "content-type", value: 1, expected: "a string"))
        addHeader("content-type null", header("content-type", "null"), .invalidHeaderValue(key: "content-type", value: nil, expected: "a string"))
        addHeader("content-type array", header("content-type", #"["json"]"#), .invalidHeaderValue(key: "content-type", value: ["json"], expected: "a string"))
        addHeader("content-encoding not a string", header("content-encoding", "8"), .invalidHeaderValue(key: "content-encoding", value: 8, expected: "a string"))
        addHeader("message-type not a string", header("message-type", "false"), .invalidHeaderValue(key: "message-type", value: false, expected: "a string"))
        addHeader("action not a string", Kit.headerText(contentLength: 0, extra: [("action", "1")]), .invalidHeaderValue(key: "action", value: 1, expected: "a string"))
        addHeader("filepath not a string", Kit.headerText(contentLength: 0, extra: [("filepath", "[]")]), .invalidHeaderValue(key: "filepath", value: [], expected: "a string"))
        addHeader("requested_value not a string", Kit.headerText(contentLength: 0, extra: [("requested_value", "null")]), .invalidHeaderValue(key: "requested_value", value: nil, expected: "a string"))

        // Limits, checked as soon as the header is in: no body byte is sent.
        let limited = FrameCodecConfiguration(maximumJSONContentLength: 100, maximumBinaryContentLength: 1000)
        add("JSON content over the configured limit, header only", Kit.rawFrame(header: header(length: 101)), .contentTooLong(length: 101, limit: 100, contentType: "json"), configuration: limited, endOfStream: false)
        add("JSON content of Int.max bytes, default limit, header only", Kit.rawFrame(header: header(length: Int.max)), .contentTooLong(length: Int.max, limit: 16 * 1024 * 1024, contentType: "json"), endOfStream: false)
        add("binary content over the configured limit, header only", Kit.rawFrame(header: header(contentType: "binary", length: 1001)), .contentTooLong(length: 1001, limit: 1000, contentType: "binary"), configuration: limited, endOfStream: false)
        add("unknown content-type over the binary limit, header only", Kit.rawFrame(header: header(contentType: "text/plain", length: 5000)), .contentTooLong(length: 5000, limit: 1000, contentType: "text/plain"), configuration: limited, endOfStream: false)
        add("header over the configured header limit, prefix only", [0x01, 0x00], .headerTooLong(length: 256, limit: 255), configuration: FrameCodecConfiguration(maximumHeaderLength: 255), endOfStream: false)
        add("JSON over the limit after a good frame, header only", goodFrame + Kit.rawFrame(header: header(length: 101)), .contentTooLong(length: 101, limit: 100, contentType: "json"), configuration: limited, endOfStream: false)

        // Content encodings.
        for encoding in ["utf-16", "latin-1", "", "cp1251"] {
            addHeader("unsupported content-encoding \"\(encoding)\"", header("content-encoding", "\"\(encoding)\""), .unsupportedContentEncoding(encoding))
        }

        // Bad text in the header.
        let badValue = Array(#"{"byteorder": "lit"#.utf8) + [0xFF] + Array(#"tle"}"#.utf8)
        add("invalid UTF-8 in a header value", Kit.rawFrame(header: badValue), .headerNotJSON(.invalidUTF8(offset: 14)))
        let badKey = Array(#"{"x"#.utf8) + [0xC3, 0x28] + Array(#"": 1}"#.utf8)
        add("invalid UTF-8 in a header key", Kit.rawFrame(header: badKey), .headerNotJSON(.invalidUTF8(offset: 1)))
        add("raw byte 0xFF between header members", Kit.rawFrame(header: Array("{".utf8) + [0xFF] + Array("}".utf8)), .headerNotJSON(.unexpectedByte(0xFF, offset: 1)))
        addHeader("raw newline in a header string", "{\"action\": \"a\nb\"}", .headerNotJSON(.controlCharacterInString(0x0A, offset: 13)))
        addHeader("lone surrogate in a header string", #"{"action": "\ud800"}"#, .headerNotJSON(.invalidEscape(offset: 12)))
        addHeader("invalid escape in a header key", #"{"\q": 1}"#, .headerNotJSON(.invalidEscape(offset: 2)))
        addHeader("5000-digit integer in the header", #"{"x": "# + String(repeating: "7", count: 5000) + "}", .headerNotJSON(.integerTooLong(digits: 5000, limit: 4300, offset: 6)))
        addHeader("header nested 1000 deep", #"{"x": "# + String(repeating: "[", count: 1000), .headerNotJSON(.nestingTooDeep(limit: 512, offset: 517)))

        // Bad JSON content.
        add("invalid UTF-8 in content", frame(Array(#"{"a": "x"#.utf8) + [0xFE] + Array(#""}"#.utf8)), .invalidJSONContent(.invalidUTF8(offset: 6)))
        add("UTF-8-encoded surrogate in content", frame(Array(#"[""#.utf8) + [0xED, 0xB0, 0x80] + Array(#""]"#.utf8)), .invalidJSONContent(.invalidUTF8(offset: 1)))
        add("garbage content", frame(Array("garbage".utf8)), .invalidJSONContent(.unexpectedByte(UInt8(ascii: "g"), offset: 0)))
        add("content with trailing data", frame(Array(#"{"a": 1} x"#.utf8)), .invalidJSONContent(.trailingData(offset: 9)))
        add("content with two values", frame(Array("{} {}".utf8)), .invalidJSONContent(.trailingData(offset: 3)))
        add("empty JSON content", frame([]), .invalidJSONContent(.unexpectedEndOfInput(offset: 0)))
        add("content nested 100k deep", frame(Array(deepArrays.utf8)), .invalidJSONContent(.nestingTooDeep(limit: 512, offset: 512)))
        add("content cut inside a value", frame(Array(#"{"args": [1, 2"#.utf8)), .invalidJSONContent(.unexpectedEndOfInput(offset: 14)))
        add("content over a tighter nesting limit", frame(Array("[[[[1]]]]".utf8)), .invalidJSONContent(.nestingTooDeep(limit: 3, offset: 3)), configuration: FrameCodecConfiguration(json: JSONParsingLimits(maximumDepth: 3)))
        add("bad content after a good frame", goodFrame + frame(Array("nope".utf8)), .invalidJSONContent(.unexpectedByte(UInt8(ascii: "o"), offset: 1)))
        return cases
    }()

    @Test("malformed frames throw the exact error", arguments: frameCases)
    func malformedFrame(_ testCase: MalformedFrameCase) {
        #expect(throws: testCase.expected) {
            try Self.decodeAll(testCase.bytes, configuration: testCase.configuration, endOfStream: testCase.endOfStream)
        }
    }

    @Test("there are at least 45 malformed frame cases, each distinct")
    func caseCount() {
        #expect(Self.frameCases.count >= 45)
        #expect(Set(Self.frameCases.map(\.name)).count == Self.frameCases.count)
        #expect(Self.jsonCases.count >= 45)
    }

    // MARK: - JSON parser cases

    static let jsonCases: [MalformedJSONCase] = [
        .init("empty text", "", .unexpectedEndOfInput(offset: 0)),
        .init("only whitespace", " \t\r\n", .unexpectedEndOfInput(offset: 4)),
        .init("bare word", "hello", .unexpectedByte(UInt8(ascii: "h"), offset: 0)),
        .init("trailing data", #"{"a": 1} x"#, .trailingData(offset: 9)),
        .init("two values", "{} {}", .trailingData(offset: 3)),
        .init("unterminated array", "[1, 2", .unexpectedEndOfInput(offset: 5)),
        .init("unterminated object", #"{"a": 1"#, .unexpectedEndOfInput(offset: 7)),
        .init("trailing comma in array", "[1,]", .unexpectedByte(UInt8(ascii: "]"), offset: 3)),
        .init("trailing comma in object", #"{"a":1,}"#, .unexpectedByte(UInt8(ascii: "}"), offset: 7)),
        .init("missing colon", #"{"a" 1}"#, .unexpectedByte(UInt8(ascii: "1"), offset: 5)),
        .init("unquoted key", "{a: 1}", .unexpectedByte(UInt8(ascii: "a"), offset: 1)),
        .init("single-quoted key", "{'a': 1}", .unexpectedByte(UInt8(ascii: "'"), offset: 1)),
        .init("numeric key", "{1: 1}", .unexpectedByte(UInt8(ascii: "1"), offset: 1)),
        .init("missing comma", "[1 2]", .unexpectedByte(UInt8(ascii: "2"), offset: 3)),
        .init("leading zero", "01", .trailingData(offset: 1)),
        .init("leading zero in array", "[01]", .unexpectedByte(UInt8(ascii: "1"), offset: 2)),
        .init("dot without fraction", "1.", .trailingData(offset: 1)),
        .init("lone minus", "-", .unexpectedEndOfInput(offset: 1)),
        .init("leading dot", ".5", .unexpectedByte(UInt8(ascii: "."), offset: 0)),
        .init("leading plus", "+1", .unexpectedByte(UInt8(ascii: "+"), offset: 0)),
        .init("minus then letter", "-x", .invalidNumber(offset: 0)),
        .init("double minus", "--1", .invalidNumber(offset: 0)),
        .init("exponent without digits", "1e", .trailingData(offset: 1)),
        .init("exponent sign without digits", "1e+", .trailingData(offset: 1)),
        .init("hex number", "0x10", .trailingData(offset: 1)),
        .init("two dots", "1.5.2", .trailingData(offset: 3)),
        .init("-NaN", "-NaN", .invalidNumber(offset: 0)),
        .init("lower-case nan", "nan", .unexpectedByte(UInt8(ascii: "a"), offset: 1)),
        .init("upper-case NAN", "NAN", .unexpectedByte(UInt8(ascii: "A"), offset: 1)),
        .init("lower-case infinity", "infinity", .unexpectedByte(UInt8(ascii: "i"), offset: 0)),
        .init("cut -Infinity", "-Infinit", .unexpectedEndOfInput(offset: 8)),
        .init("cut true", "tru", .unexpectedEndOfInput(offset: 3)),
        .init("Python True", "True", .unexpectedByte(UInt8(ascii: "T"), offset: 0)),
        .init("Python None", "None", .unexpectedByte(UInt8(ascii: "o"), offset: 1)),
        .init("cut null", "nul", .unexpectedEndOfInput(offset: 3)),
        .init("integer of 5000 digits", String(repeating: "1", count: 5000), .integerTooLong(digits: 5000, limit: 4300, offset: 0)),
        .init("negative integer of 5000 digits", "-" + String(repeating: "9", count: 5000), .integerTooLong(digits: 5000, limit: 4300, offset: 0)),
        .init("integer of 4301 digits", String(repeating: "2", count: 4301), .integerTooLong(digits: 4301, limit: 4300, offset: 0)),
        .init("long integer inside an array", "[1, " + String(repeating: "3", count: 5000) + "]", .integerTooLong(digits: 5000, limit: 4300, offset: 4)),
        .init("arrays 100k deep", deepArrays, .nestingTooDeep(limit: 512, offset: 512)),
        .init("objects 100k deep", String(repeating: #"{"a":"#, count: 100_000), .nestingTooDeep(limit: 512, offset: 2560)),
        .init("513 balanced arrays", String(repeating: "[", count: 513) + String(repeating: "]", count: 513), .nestingTooDeep(limit: 512, offset: 512)),
        .init("lone high surrogate", #""\ud800""#, .invalidEscape(offset: 1)),
        .init("lone low surrogate", #""\udc00""#, .invalidEscape(offset: 1)),
        .init("high surrogate then BMP escape", #""\ud800\u0041""#, .invalidEscape(offset: 1)),
        .init("high surrogate then a letter", #""\ud800x""#, .invalidEscape(offset: 1)),
        .init("two high surrogates", #""\ud800\ud800""#, .invalidEscape(offset: 1)),
        .init("low then high surrogate", #""\udc00\ud800""#, .invalidEscape(offset: 1)),
        .init("surrogate after text", #""ab\udfff""#, .invalidEscape(offset: 3)),
        .init("hex escape", #""\x41""#, .invalidEscape(offset: 1)),
        .init("upper-case U escape", #""\U0041""#, .invalidEscape(offset: 1)),
        .init("bad hex digits", #""\u12zz""#, .invalidEscape(offset: 1)),
        .init("short \\u escape at the end", #""\u12""#, .unexpectedEndOfInput(offset: 6)),
        .init("escaped apostrophe", #""\'""#, .invalidEscape(offset: 1)),
        .init("backslash at the end", #""\"#, .unexpectedEndOfInput(offset: 2)),
        .init("unterminated string", #""abc"#, .unexpectedEndOfInput(offset: 4)),
        .init("raw tab in a string", "\"a\tb\"", .controlCharacterInString(0x09, offset: 2)),
        .init("raw NUL in a string", "\"\u{0}\"", .controlCharacterInString(0x00, offset: 1)),
        .init("raw newline in a string", "\"a\nb\"", .controlCharacterInString(0x0A, offset: 2)),
        .init("raw 0x1F after an escape", "\"\\n\u{1F}\"", .controlCharacterInString(0x1F, offset: 3)),
        .init("raw control char in a key", "{\"k\u{1}\": 1}", .controlCharacterInString(0x01, offset: 3)),
        .init("invalid UTF-8 byte in a string", bytes: [0x22, 0xFF, 0x22], .invalidUTF8(offset: 0)),
        .init("overlong UTF-8 in a string", bytes: [0x22, 0xC0, 0xAF, 0x22], .invalidUTF8(offset: 0)),
        .init("UTF-8-encoded surrogate", bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8(offset: 0)),
        .init("truncated UTF-8 sequence", bytes: [0x20, 0x22, 0xE2, 0x82, 0x22], .invalidUTF8(offset: 1)),
        .init("invalid UTF-8 in a string with escapes", bytes: Array(#""\n"#.utf8) + [0xFF, 0x22], .invalidUTF8(offset: 0)),
        .init("invalid UTF-8 in a key", bytes: [0x7B, 0x22, 0xF8, 0x22, 0x3A, 0x31, 0x7D], .invalidUTF8(offset: 1)),
        .init("invalid byte outside strings", bytes: [0xFF], .unexpectedByte(0xFF, offset: 0)),
        .init("UTF-8 BOM", bytes: [0xEF, 0xBB, 0xBF, 0x31], .unexpectedByte(0xEF, offset: 0)),
        .init("form feed is not whitespace", "\u{0C}1", .unexpectedByte(0x0C, offset: 0)),
        .init("vertical tab after a value", "[1]\u{0B}", .trailingData(offset: 3)),
        .init("non-breaking space", "\u{A0}1", .unexpectedByte(0xC2, offset: 0)),
        .init("comment", "/* c */ 1", .unexpectedByte(UInt8(ascii: "/"), offset: 0)),
    ]

    @Test("malformed JSON throws the exact parser error", arguments: jsonCases)
    func malformedJSON(_ testCase: MalformedJSONCase) {
        #expect(throws: testCase.expected) { try JSONParser.parse(testCase.bytes) }
    }

    @Test("malformed JSON content in a frame throws invalidJSONContent with the parser error", arguments: jsonCases)
    func malformedJSONInFrame(_ testCase: MalformedJSONCase) {
        #expect(throws: FrameDecodingError.invalidJSONContent(testCase.expected)) {
            try Self.decodeAll(Self.frame(testCase.bytes))
        }
    }

    // MARK: - Truncation at every point

    @Test("every vector cut at every byte: truncatedFrame with exact counts")
    func everyTruncation() throws {
        for vector in Vectors.all {
            let bytes = vector.bytes
            let headerLength = Int(bytes[0]) << 8 | Int(bytes[1])
            let contentLength = bytes.count - 2 - headerLength
            for cut in 1..<bytes.count {
                let expected: FrameDecodingError
                if cut < 2 {
                    expected = .truncatedFrame(expected: 2, received: cut)
                } else if cut < 2 + headerLength {
                    expected = .truncatedFrame(expected: 2 + headerLength, received: cut)
                } else {
                    expected = .truncatedFrame(expected: contentLength, received: cut - 2 - headerLength)
                }
                #expect(throws: expected, "\(vector.name) cut at \(cut)") {
                    try Self.decodeAll(Array(bytes.prefix(cut)))
                }
                // Without the end of the stream the decoder just waits (no error, no complete frame).
                let parts = try Self.decodeAll(Array(bytes.prefix(cut)), endOfStream: false)
                let completed = parts.contains { part in
                    switch part {
                    case .frame, .binaryEnd: return true
                    case .binaryHead, .binaryBody: return false
                    }
                }
                #expect(!completed, "\(vector.name) cut at \(cut), stream open: \(parts)")
            }
            // Whole: no error.
            _ = try Self.decodeAll(bytes)
        }
    }

    @Test("a frame cut after complete frames still delivers those frames first")
    func truncationAfterGoodFrames() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: Self.goodFrame + Self.goodFrame + Array(Self.goodFrame.prefix(10)))
        var parts: [FramePart] = []
        while let part = try decoder.decode(buffer: &buffer) { parts.append(part) }
        #expect(parts.count == 2)
        let headerLength = Int(Self.goodFrame[0]) << 8 | Int(Self.goodFrame[1])
        #expect(throws: FrameDecodingError.truncatedFrame(expected: 2 + headerLength, received: 10)) {
            try decoder.decodeLast(buffer: &buffer, seenEOF: true)
        }
    }

    // MARK: - Limits fire on the header alone

    @Test("JSON content over the limit is refused with only the header received, byte by byte")
    func jsonLimitBeforeBody() throws {
        let configuration = FrameCodecConfiguration(maximumJSONContentLength: 1024)
        let bytes = Kit.rawFrame(header: Self.header(length: 1025))
        var decoder = FrameDecoder(configuration: configuration)
        var buffer = ByteBuffer()
        for (i, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            if i < bytes.count - 1 {
                #expect(try decoder.decode(buffer: &buffer) == nil, "needs more bytes at \(i)")
            } else {
                #expect(throws: FrameDecodingError.contentTooLong(length: 1025, limit: 1024, contentType: "json")) {
                    try decoder.decode(buffer: &buffer)
                }
            }
        }
        // Exactly at the limit is accepted.
        let atLimit = Self.frame(Array(("[" + String(repeating: " ", count: 1022) + "]").utf8))
        #expect(try Self.decodeAll(atLimit, configuration: configuration).count == 1)
    }

    @Test("binary content over the configured limit is refused on the header; at the limit it streams")
    func binaryLimit() throws {
        let configuration = FrameCodecConfiguration(maximumBinaryContentLength: 4096)
        #expect(throws: FrameDecodingError.contentTooLong(length: 4097, limit: 4096, contentType: "binary")) {
            try Self.decodeAll(Kit.rawFrame(header: Self.header(contentType: "binary", length: 4097)), configuration: configuration, endOfStream: false)
        }
        let body = [UInt8](repeating: 0xAB, count: 4096)
        var assembler = Kit.PartAssembler()
        let frames = try assembler.absorb(try Self.decodeAll(Self.frame(body, contentType: "binary"), configuration: configuration))
        #expect(frames.first?.content.bytes == ByteBuffer(bytes: body))
    }

    @Test("a header longer than the configured limit is refused on its length prefix")
    func headerLimit() throws {
        var decoder = FrameDecoder(configuration: FrameCodecConfiguration(maximumHeaderLength: 100))
        var buffer = ByteBuffer(bytes: [0x00])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeInteger(UInt8(101))
        #expect(throws: FrameDecodingError.headerTooLong(length: 101, limit: 100)) { try decoder.decode(buffer: &buffer) }
        // The limit cannot exceed what the prefix can express.
        #expect(FrameCodecConfiguration(maximumHeaderLength: 1_000_000).maximumHeaderLength == 65535)
    }

    // MARK: - Edges that must be accepted

    /// A valid header of exactly `length` bytes (a padding key fills it).
    static func paddedHeader(length: Int, contentLength: Int) -> String {
        let base = Kit.headerText(contentLength: contentLength, extra: [("action", #""pad""#), ("x-pad", #""""#)])
        return Kit.headerText(
            contentLength: contentLength,
            extra: [("action", #""pad""#), ("x-pad", "\"" + String(repeating: "p", count: length - base.utf8.count) + "\"")]
        )
    }

    @Test("a valid 65535-byte header decodes")
    func maximumHeader() throws {
        let content = Array(#"{"args": [], "kwargs": {}}"#.utf8)
        let header = Self.paddedHeader(length: 65535, contentLength: content.count)
        #expect(header.utf8.count == 65535)
        let bytes = Kit.rawFrame(header: header, content: content)
        #expect(bytes.prefix(2) == [0xFF, 0xFF])
        let frame = try Kit.decodeSingleFrame(bytes)
        #expect(frame.header.action == "pad")
        let unpadded = Kit.headerText(contentLength: content.count, extra: [("action", #""pad""#), ("x-pad", #""""#)])
        #expect(frame.header.extra["x-pad"]?.stringValue?.utf8.count == 65535 - unpadded.utf8.count)
        #expect(frame.content == .json(["args": [], "kwargs": [:]]))

        // Fed through a ByteToMessageHandler in 1000-byte pieces.
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var start = 0
        while start < bytes.count {
            let end = min(start + 1000, bytes.count)
            try channel.writeInbound(ByteBuffer(bytes: bytes[start..<end]))
            start = end
        }
        #expect(try channel.readInbound(as: FramePart.self) == .frame(frame))
        #expect(try channel.finish().isClean)
    }

    @Test("the encoder writes a 65535-byte header and refuses a 65536-byte one")
    func encoderHeaderLimit() throws {
        func frame(headerLength: Int) -> Frame {
            let base = try! Kit.encode(.action("pad", extra: ["x-pad": ""]))
            let baseHeaderLength = Int(base[0]) << 8 | Int(base[1])
            return .action("pad", extra: ["x-pad": .string(String(repeating: "p", count: headerLength - baseHeaderLength))])
        }
        let encoded = try Kit.encode(frame(headerLength: 65535))
        #expect(encoded.prefix(2) == [0xFF, 0xFF])
        #expect(try Kit.decodeSingleFrame(encoded) == Kit.normalized(frame(headerLength: 65535)))
        #expect(throws: FrameEncodingError.headerTooLong(length: 65536)) { try Kit.encode(frame(headerLength: 65536)) }
        // Nothing is left behind in the buffer after the refusal.
        var out = ByteBuffer(string: "keep")
        #expect(throws: FrameEncodingError.headerTooLong(length: 65536)) { try FrameEncoder().encode(data: frame(headerLength: 65536), out: &out) }
        #expect(out == ByteBuffer(string: "keep"))
    }

    @Test("the encoder refuses content that contradicts content-type")
    func encoderContentTypeMismatch() {
        let jsonInBinary = Frame(header: FrameHeader(contentType: .binary, messageType: .message), content: .json(1))
        #expect(throws: FrameEncodingError.contentTypeMismatch(declared: "binary")) { try Kit.encode(jsonInBinary) }
        let bytesInJSON = Frame(header: FrameHeader(contentType: .json, messageType: .message), content: .binary(ByteBuffer()))
        #expect(throws: FrameEncodingError.contentTypeMismatch(declared: "json")) { try Kit.encode(bytesInJSON) }
    }

    // MARK: - Errors in a pipeline

    @Test("after an error ByteToMessageHandler fires it, so the connection can be closed")
    func channelErrorCloses() throws {
        let recorder = CloseOnErrorHandler()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
        try channel.pipeline.syncOperations.addHandler(recorder)
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 25000), promise: nil)
        #expect(channel.isActive)

        let bad = Kit.rawFrame(header: Self.header("content-length", "-5"))
        try channel.writeInbound(ByteBuffer(bytes: Self.goodFrame + bad + Self.goodFrame))
        #expect(recorder.parts.count == 1, "the good frame before the error is delivered, nothing after it")
        #expect(recorder.errors.count == 1)
        #expect(recorder.errors.first as? FrameDecodingError == .invalidContentLength(.integer(-5)))
        #expect(!channel.isActive, "the channel was closed on the error")
    }

    @Test("EmbeddedChannel surfaces the decoding error, and the decoder stays stopped")
    func channelErrorSurfaces() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        let bad = Kit.rawFrame(header: #"["not", "an", "object"]"#)
        #expect(throws: FrameDecodingError.headerNotObject) {
            try channel.writeInbound(ByteBuffer(bytes: Self.goodFrame + bad))
        }
        #expect(try channel.readInbound(as: FramePart.self) != nil)
        #expect(try channel.readInbound(as: FramePart.self) == nil)
        // More bytes after the error are refused, not decoded.
        #expect(throws: (any Error).self) { try channel.writeInbound(ByteBuffer(bytes: Self.goodFrame)) }
        #expect(try channel.readInbound(as: FramePart.self) == nil)
        _ = try? channel.finish()
    }

    @Test("100k-deep JSON through a pipeline throws nestingTooDeep without crashing")
    func channelDeepNesting() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        #expect(throws: FrameDecodingError.invalidJSONContent(.nestingTooDeep(limit: 512, offset: 512))) {
            try channel.writeInbound(ByteBuffer(bytes: Self.frame(Array(Self.deepArrays.utf8))))
        }
        _ = try? channel.finish()
    }
}
