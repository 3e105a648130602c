import NIOCore
import Testing

@testable import CleverMessaging

/// ``JSONTextDecoder`` decodes what ``JSONParser`` followed by
/// ``JSONValueDecoder`` decodes, to the same values, and fails where they fail.
@Suite("JSON text decoder")
struct JSONTextDecoderTests {
    typealias Corpus = JSONTextEncoderTests

    /// The outcome of decoding `text` as `T` through the text decoder.
    static func direct<T: Decodable>(_ type: T.Type, _ text: [UInt8], limits: JSONParsingLimits = .init()) -> Result<T, any Error> {
        text.withUnsafeBytes { bytes in Result { try JSONTextDecoder.decode(T.self, from: bytes, limits: limits) } }
    }

    /// The outcome of decoding `text` as `T` through the tree.
    static func tree<T: Decodable>(_ type: T.Type, _ text: [UInt8], limits: JSONParsingLimits = .init()) -> Result<T, any Error> {
        text.withUnsafeBytes { bytes in
            Result { try JSONValueDecoder().decode(T.self, from: JSONParser.parse(bytes, limits: limits)) }
        }
    }

    /// A description of an outcome that two equal outcomes share (values by
    /// their encoded text, errors by their kind and coding path).
    /// Swift dictionaries (which keep no order) are compared with their keys sorted.
    static func describe<T: Encodable>(_ result: Result<T, any Error>) -> String {
        func sorted(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let object):
                var result = JSONObject()
                for key in object.keys.sorted() { result[key] = sorted(object[key]!) }
                return .object(result)
            case .array(let elements): return .array(elements.map(sorted))
            default: return value
            }
        }
        switch result {
        case .success(let value):
            guard let tree = try? JSONValueEncoder().encode(value) else { return "ok (does not encode)" }
            let canonical = String(describing: T.self).contains("Dictionary") || T.self == JSONTextEncoderTests.Texts.self ? sorted(tree) : tree
            return "ok " + String(decoding: JSONWriter.bytes(of: canonical), as: UTF8.self)
        case .failure(let error as JSONParsingError):
            return "parse \(error)"
        case .failure(let error as DecodingError):
            switch error {
            case .typeMismatch(let type, let context): return "typeMismatch \(type) \(context.codingPath.map(\.stringValue)) \(context.debugDescription)"
            case .valueNotFound(let type, let context): return "valueNotFound \(type) \(context.codingPath.map(\.stringValue)) \(context.debugDescription)"
            case .keyNotFound(let key, let context): return "keyNotFound \(key.stringValue) \(context.codingPath.map(\.stringValue))"
            case .dataCorrupted(let context): return "dataCorrupted \(context.codingPath.map(\.stringValue)) \(context.debugDescription)"
            @unknown default: return "\(error)"
            }
        case .failure(let error):
            return "other \(error)"
        }
    }

    static func expectSame<T: Codable>(_ type: T.Type, _ text: [UInt8], limits: JSONParsingLimits = .init(), sourceLocation: SourceLocation = #_sourceLocation) {
        let direct = describe(direct(type, text, limits: limits))
        let tree = describe(tree(type, text, limits: limits))
        #expect(direct == tree, "for \(String(decoding: text, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    static func expectSame<T: Codable>(_ type: T.Type, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        expectSame(type, Array(text.utf8), sourceLocation: sourceLocation)
    }

    // MARK: - Values

    @Test func decodesWhatItEncodes() throws {
        let text = try JSONTextEncoderTests.directBytes(Corpus.telemetry)
        #expect(try Self.direct(Corpus.Telemetry.self, text).get() == Corpus.telemetry)
        Self.expectSame(Corpus.Telemetry.self, text)
        Self.expectSame([Corpus.Command].self, try JSONTextEncoderTests.directBytes([Corpus.Command.land, .goTo(x: 1, y: 2, speed: 0.5), .say("hé", times: 3)]))
        Self.expectSame(Corpus.Extremes.self, try JSONTextEncoderTests.directBytes(Corpus.Extremes()))
        Self.expectSame(Corpus.Texts.self, try JSONTextEncoderTests.directBytes(Corpus.Texts()))
        Self.expectSame(JSONValue.self, try JSONTextEncoderTests.directBytes(Corpus.Texts()))
    }

    struct Flexible: Codable {
        var a: Int?
        var b: Double?
        var c: String?
        var d: [Int]?
        var e: JSONValue?
        var f: Float?
        var g: UInt8?
        var h: Bool?
    }

    @Test func conversionsAndMismatches() {
        for text in [
            #"{"a": 1, "b": 2, "c": "x", "d": [1, 2], "e": {"z": [null]}, "f": 0.1, "g": 255, "h": true}"#,
            #"{"a": 1.0, "b": 1e400, "f": 1e300}"#,
            #"{"a": 1.5}"#, #"{"a": "1"}"#, #"{"a": null, "b": null, "c": null}"#, #"{"a": 99999999999999999999}"#,
            #"{"b": 123456789012345678901234567890}"#, #"{"g": 256}"#, #"{"g": -1}"#, #"{"h": 1}"#, #"{"d": [1, "2"]}"#,
            #"{"d": {}}"#, #"{"a": NaN}"#, #"{"b": -Infinity}"#, #"{"a": 1, "a": "two"}"#, #"{"a": "two", "a": 2}"#,
            #"{"\u0061": 5}"#, #"{"e\u0301": 1}"#, #"[]"#, #"null"#, #"{}"#, #" { "a" : 1 } "#,
        ] {
            Self.expectSame(Flexible.self, text)
        }
        Self.expectSame(Corpus.Position.self, #"{"x": 1, "y": 2}"#)
        Self.expectSame(Corpus.Position.self, #"{"x": 1, "y": 2, "z": "3"}"#)
        Self.expectSame([Corpus.Position].self, #"[{"x": 1, "y": 2, "z": 3}, {"x": 1, "y": 2}]"#)
        Self.expectSame([[Int]].self, #"[[1], [2, [3]]]"#)
        Self.expectSame(Corpus.Command.self, #"{"goTo": {"x": 1, "y": 2, "speed": 1e39}}"#)
        Self.expectSame(Corpus.Command.self, #"{"say": {"_0": "hi", "times": 2}}"#)
        Self.expectSame(Corpus.Command.self, #"{"fly": {}}"#)
        Self.expectSame([String: [Double]].self, #"{"b": [1, 2.5], "a": []}"#)
        Self.expectSame(String.self, #""\ud83d\ude81 \n \u00e9""#)
        Self.expectSame(Int.self, " 42 ")
    }

    /// A key written with escapes, or in another normalization, is the same key.
    @Test func keysCompareAsStrings() throws {
        struct Accented: Codable { var é: Int }
        let decomposed = Array(#"{"e\#u{301}": 7}"#.utf8)
        #expect(try Self.direct(Accented.self, decomposed).get().é == 7)
        Self.expectSame(Accented.self, decomposed)
        #expect(try Self.direct(Accented.self, Array(#"{"\u00e9": 8}"#.utf8)).get().é == 8)
    }

    // MARK: - Bad input

    @Test func malformedTextFailsAsTheParserDoes() {
        for text in [
            "", " ", "{", "{\"a\"", "{\"a\":", "{\"a\": 1", "{\"a\": 1,}", "[1,]", "[1 2]", "{\"a\" 1}", "{1: 2}",
            "{\"a\": 01}", "{\"a\": 1.}", "{\"a\": -}", "{\"a\": tru}", "{\"a\": \"\u{1}\"}", "{\"a\": \"\\x\"}",
            "{\"a\": \"\\ud800\"}", "{\"a\": 1} x", "{\"a\": [1]]", "\"abc", "{\"a\": nul}",
        ] {
            Self.expectSame(Flexible.self, text)
            Self.expectSame(JSONValue.self, text)
            #expect(throws: JSONParsingError.self) { try Self.direct(Flexible.self, Array(text.utf8)).get() }
        }
        Self.expectSame(Flexible.self, [0x7B, 0x22, 0x63, 0x22, 0x3A, 0x20, 0x22, 0xFF, 0x22, 0x7D])  // {"c": "\xff"}
    }

    @Test func limitsAreThoseOfTheParser() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        Self.expectSame(JSONValue.self, Array(deep.utf8))
        #expect(throws: JSONParsingError.self) { try Self.direct([JSONValue].self, Array(deep.utf8)).get() }
        let nested = "{\"d\": " + String(repeating: "[", count: 20) + String(repeating: "]", count: 20) + "}"
        let tight = JSONParsingLimits(maximumDepth: 10, maximumIntegerDigits: 30)
        Self.expectSame(Flexible.self, Array(nested.utf8), limits: tight)
        let long = "{\"a\": " + String(repeating: "9", count: 31) + "}"
        Self.expectSame(Flexible.self, Array(long.utf8), limits: tight)
        #expect(throws: JSONParsingError.self) { try Self.direct(Flexible.self, Array(long.utf8), limits: tight).get() }
    }

    /// Every cut and many one-byte changes of valid texts: the same outcome as
    /// the tree, never a crash.
    @Test func truncatedAndMutatedTexts() throws {
        var rng = WireTestKit.SeededRNG(seed: 0xDEC0DE)
        let samples = [
            try JSONTextEncoderTests.directBytes(Corpus.telemetry),
            Array(#"{"a": 1, "b": 2.5, "c": "x\"y", "d": [1, 2], "e": {"k": [true, null]}, "h": false}"#.utf8),
        ]
        let alphabet = Array(#"{}[]":,0123456789.eE+-tfnNIa\ "#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xFF]
        for sample in samples {
            for cut in 0..<sample.count {
                Self.expectSame(Corpus.Telemetry.self, Array(sample[..<cut]))
                Self.expectSame(Flexible.self, Array(sample[..<cut]))
            }
            for _ in 0..<1500 {
                var mutated = sample
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    mutated[Int.random(in: 0..<mutated.count, using: &rng)] = alphabet.randomElement(using: &rng)!
                }
                Self.expectSame(Corpus.Telemetry.self, mutated)
                Self.expectSame(Flexible.self, mutated)
                Self.expectSame(JSONValue.self, mutated)
            }
        }
    }

    @Test func randomTreesDecodeToTheSameValues() throws {
        var rng = WireTestKit.SeededRNG(seed: 77)
        for _ in 0..<1000 {
            let text = try JSONTextEncoderTests.directBytes(JSONTextEncoderTests.randomNode(depth: 0, using: &rng))
            Self.expectSame(JSONValue.self, text)
            Self.expectSame([JSONValue].self, text)
            Self.expectSame([String: JSONValue].self, text)
        }
    }

    // MARK: - Arguments of actions

    @Test func keywordArgumentsDecodeFromTextOrValues() throws {
        let text = try JSONTextEncoder.encode(Corpus.Position(x: 1, y: 2, z: 3))
        let fromText = try ActionKeywordArguments.text(text).decode(Corpus.Position.self, limits: .init())
        let fromValues = try ActionKeywordArguments.values(["x": 1, "y": 2, "z": 3]).decode(Corpus.Position.self, limits: .init())
        #expect(fromText == fromValues)
        #expect(throws: DecodingError.self) {
            try ActionKeywordArguments.text(ByteBuffer(string: #"{"x": 1}"#)).decode(Corpus.Position.self, limits: .init())
        }
    }

    /// The frame decoder keeps `kwargs` as text only for an action whose handler decodes them.
    @Test func frameDecoderKeepsTheKwargsTextForDecodingHandlers() throws {
        let registry = HandlerRegistry()
        registry.onAction("goto", decoding: Corpus.Position.self) { _, _ in }
        registry.onAction("plain") { _, _, _ in }
        var decoder = FrameDecoder()
        decoder.handlers = HandlerLookup(registry)
        var bytes = ByteBuffer()
        let writer = FrameWriter()
        try writer.writeAction("goto", args: [], kwargs: ["x": 1, "y": 2, "z": 3], into: &bytes)
        try writer.writeAction("plain", args: [], kwargs: ["x": 1], into: &bytes)
        guard case .json(_, let goto)? = try decoder.decodeInbound(buffer: &bytes),
            case .json(_, let plain)? = try decoder.decodeInbound(buffer: &bytes)
        else {
            Issue.record("expected two JSON frames")
            return
        }
        #expect(goto.kwargs.isEmpty)
        #expect(goto.kwargsText.map { String(buffer: $0) } == #"{"x": 1, "y": 2, "z": 3}"#)
        #expect(goto.jsonObject == ["args": [], "kwargs": ["x": 1, "y": 2, "z": 3]] || goto.jsonObject == ["kwargs": ["x": 1, "y": 2, "z": 3]])
        #expect(plain.kwargsText == nil)
        #expect(plain.kwargs == ["x": 1])
    }

    /// Without a handler that decodes its own arguments nothing is looked up as
    /// frames are decoded, and their members carry no typed part; with one, a
    /// repeated `kwargs` key counts by its last value, text or not.
    @Test func frameDecoderLooksNothingUpForTreeHandlersOnly() throws {
        let registry = HandlerRegistry()
        registry.onAction("plain") { _, _, _ in }
        registry.onRequest("plain") { _, _, _ in .null }
        var decoder = FrameDecoder()
        decoder.handlers = HandlerLookup(registry)
        var bytes = ByteBuffer()
        let writer = FrameWriter()
        try writer.writeAction("plain", args: [], kwargs: ["x": 1], into: &bytes)
        try writer.writeRequest("plain", id: "1", args: [], kwargs: ["x": 1], into: &bytes)
        for _ in 0..<2 {
            guard case .json(_, let members)? = try decoder.decodeInbound(buffer: &bytes) else {
                Issue.record("expected a JSON frame")
                return
            }
            #expect(members.typedPart == nil)
            #expect(members.kwargs == ["x": 1])
        }

        registry.onAction("goto", decoding: Corpus.Position.self) { _, _ in }
        let repeated = [#"{"kwargs": {"x": 1, "y": 2, "z": 3}, "kwargs": {"x": 4}}"#, #"{"kwargs": {"x": 1}, "kwargs": 5}"#]
        // The last `kwargs`: an object, kept as text for the decoding handler; then not an object.
        let expected: [String?] = [#"{"x": 4}"#, nil]
        for (content, text) in zip(repeated, expected) {
            try writer.writeAction("plain", args: [], kwargs: [:], into: &bytes)  // a tree handler's frame: no text kept
            guard case .json(_, let plain)? = try decoder.decodeInbound(buffer: &bytes) else {
                Issue.record("expected a JSON frame")
                return
            }
            #expect(plain.kwargsText == nil)
            var input = ByteBuffer(bytes: MalformedInputTests.frame(Array(content.utf8), extra: [("action", #""goto""#)]))
            guard case .json(_, let goto)? = try decoder.decodeInbound(buffer: &input) else {
                Issue.record("expected a JSON frame")
                return
            }
            #expect(goto.kwargsText.map { String(buffer: $0) } == text)
            #expect(goto.kwargs.isEmpty)
        }
    }
}

