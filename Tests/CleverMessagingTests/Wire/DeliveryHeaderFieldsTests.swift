import NIOCore
import Testing

@testable import CleverMessaging

/// The keys of acknowledged delivery (`x-clever-seq`, `x-clever-acked`) read
/// straight into typed fields of the header, and written as digits: the same
/// bytes on the wire, the same behaviour for every other value.
@Suite("Delivery header fields")
struct DeliveryHeaderFieldsTests {
    static let prefix = #"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": 2"#

    /// Parses a header by the general parser and, when it takes it, the fast path.
    private static func parse(_ text: String, limits: JSONParsingLimits = .init()) -> Result<FrameHeader, FrameDecodingError> {
        Array(text.utf8).withUnsafeBytes { raw in Result { () throws(FrameDecodingError) in try FrameHeader.parse(raw, limits: limits) } }
    }

    /// The header with other spacing, which only the general parser reads.
    private static func parseSpaced(_ text: String) -> Result<FrameHeader, FrameDecodingError> {
        parse(text.replacingOccurrences(of: "\": ", with: "\" : "))
    }

    @Test("present: the numbers are typed, on the fast path and the general one, and kept out of the extra keys")
    func present() throws {
        for marker in ["", #", "x-clever": 1"#] {
            let text = Self.prefix + #", "message-type": "message", "action": "go", "x-clever-seq": 7, "x-clever-acked": 3"# + marker + "}"
            for result in [Self.parse(text), Self.parseSpaced(text)] {
                let header = try result.get()
                #expect(header.deliverySequence == 7)
                #expect(header.deliveryAcknowledgement == 3)
                #expect(header.extra == (marker.isEmpty ? [:] : ["x-clever": 1]))
                // The whole header as an object still holds them, where this library writes them.
                #expect(Array(header.jsonObject.keys.suffix(marker.isEmpty ? 2 : 3)) == ["x-clever-seq", "x-clever-acked"] + (marker.isEmpty ? [] : ["x-clever"]))
                #expect(header.jsonObject["x-clever-seq"] == 7)
            }
        }
        // Elsewhere in the header, in any order, on any kind of frame.
        let anywhere = try Self.parse(#"{"x-clever-acked": 0, "message-type": "request", "byteorder": "big", "content-type": "json", "x-clever-seq": 9223372036854775807, "content-encoding": "utf-8", "content-length": 2}"#).get()
        #expect(anywhere.deliverySequence == UInt64(Int.max))
        #expect(anywhere.deliveryAcknowledgement == 0)
        #expect(anywhere.extra.isEmpty)
        // `-0` is the integer 0 (as in Python): typed, and it counts for nothing, as before.
        let negativeZero = try Self.parse(Self.prefix + #", "message-type": "message", "action": "go", "x-clever-seq": -0}"#).get()
        #expect(negativeZero.deliverySequence == 0)
        #expect(negativeZero.extra.isEmpty)
    }

    @Test("absent: a reference peer's header has no typed numbers, and every vector decodes as before")
    func absent() throws {
        let header = try Self.parse(Self.prefix + #", "message-type": "message", "action": "go"}"#).get()
        #expect(header.deliverySequence == nil)
        #expect(header.deliveryAcknowledgement == nil)
        #expect(header.extra.isEmpty)
        for vector in Vectors.all {
            var buffer = ByteBuffer(bytes: vector.bytes)
            while buffer.readableBytes >= 2, let length = buffer.readInteger(as: UInt16.self), let text = buffer.readBytes(length: Int(length)) {
                let header = try text.withUnsafeBytes { raw throws(FrameDecodingError) in try FrameHeader.parse(raw) }
                #expect(header.deliverySequence == nil, "\(vector.name)")
                #expect(header.deliveryAcknowledgement == nil, "\(vector.name)")
                // Every key of the text is in the header, with its value.
                let object = try #require(try JSONParser.parse(text.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }).objectValue)
                let decoded = header.jsonObject
                #expect(Set(object.keys) == Set(decoded.keys), "\(vector.name)")
                for (key, value) in object { #expect(decoded[key] == value, "\(vector.name): \(key)") }
                buffer.moveReaderIndex(forwardBy: min(header.contentLength, buffer.readableBytes))
            }
        }
    }

    @Test("a value of another type stays in the extra keys as it was, and refusals are the same as for any key", arguments: [
        #""3""#, "-3", "3.5", "1e3", "123456789012345678901234567890", "true", "null", "[1]", #"{"n": 1}"#, "03", "",
    ])
    func otherValues(value: String) throws {
        for key in ["x-clever-seq", "x-clever-acked"] {
            let text = Self.prefix + #", "message-type": "message", "action": "go", ""# + key + #"": "# + value + #", "x-clever": 1}"#
            // The same header with a key this library gives no meaning to, of
            // the same length (the same offsets in errors): what any key got before.
            let otherKey = "x-" + String(repeating: "z", count: key.utf8.count - 2)
            let other = text.replacingOccurrences(of: key, with: otherKey)
            for limits in [JSONParsingLimits(), JSONParsingLimits(maximumIntegerDigits: 10)] {
                switch (Self.parse(text, limits: limits), Self.parse(other, limits: limits)) {
                case (.success(let header), .success(let reference)):
                    #expect(header.deliverySequence == nil)
                    #expect(header.deliveryAcknowledgement == nil)
                    #expect(Array(header.extra.keys) == [key, "x-clever"])
                    #expect(header.extra[key] == reference.extra[otherKey])
                case (.failure(let error), .failure(let referenceError)):
                    #expect("\(error)" == "\(referenceError)", "\(value)")
                case (let result, let reference):
                    Issue.record("\(key): \(value): \(result) vs \(reference)")
                }
            }
        }
    }

    @Test("a repeated key counts by its last value, typed or not")
    func repeatedKeys() throws {
        let head = Self.prefix + #", "message-type": "message", "action": "go", "#
        let typedThenText = try Self.parse(head + #""x-clever-seq": 3, "x-clever-seq": "x"}"#).get()
        #expect(typedThenText.deliverySequence == nil)
        #expect(typedThenText.extra == ["x-clever-seq": "x"])
        let textThenTyped = try Self.parse(head + #""x-clever-seq": "x", "x-clever-seq": 4, "x-clever": 1}"#).get()
        #expect(textThenTyped.deliverySequence == 4)
        #expect(textThenTyped.extra == ["x-clever": 1])
        let escaped = try Self.parse(head + #""x-clever-\u0061cked": 5}"#).get()
        #expect(escaped.deliveryAcknowledgement == 5)
        #expect(escaped.extra.isEmpty)
    }

    /// The frames this library wrote before the numbers were typed, as the
    /// reference's `json.dumps` writes the same header (made by Python, not by this library).
    static let golden: [(action: String, args: [JSONValue], kwargs: JSONObject, sequence: UInt64?, acknowledged: UInt64?, header: String, content: String)] = [
        ("start", [1], ["time": "1"], 1, nil,
         #"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": 38, "message-type": "message", "action": "start", "x-clever-seq": 1, "x-clever": 1}"#,
         #"{"args": [1], "kwargs": {"time": "1"}}"#),
        ("start", [1], ["time": "1"], 7, 3,
         #"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": 38, "message-type": "message", "action": "start", "x-clever-seq": 7, "x-clever-acked": 3, "x-clever": 1}"#,
         #"{"args": [1], "kwargs": {"time": "1"}}"#),
        ("x-clever-acked", [], [:], nil, 40,
         #"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": 26, "message-type": "message", "action": "x-clever-acked", "x-clever-acked": 40, "x-clever": 1}"#,
         #"{"args": [], "kwargs": {}}"#),
        ("led_fill", [255, 0, 128], [:], 9_007_199_254_740_993, 123_456_789_012,
         #"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": 37, "message-type": "message", "action": "led_fill", "x-clever-seq": 9007199254740993, "x-clever-acked": 123456789012, "x-clever": 1}"#,
         #"{"args": [255, 0, 128], "kwargs": {}}"#),
        ("go", [], [:], UInt64(Int.max), 0,
         #"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": 26, "message-type": "message", "action": "go", "x-clever-seq": 9223372036854775807, "x-clever-acked": 0, "x-clever": 1}"#,
         #"{"args": [], "kwargs": {}}"#),
    ]

    /// The bytes of a frame: the big-endian length of the header, the header, the content.
    private static func frameBytes(header: String, content: String) -> [UInt8] {
        let length = header.utf8.count
        return [UInt8(length >> 8), UInt8(length & 0xFF)] + Array(header.utf8) + Array(content.utf8)
    }

    @Test("numbered actions are written byte for byte as before, from their parts, reusing a plain frame, and from a decoded header")
    func byteIdentical() throws {
        var writer = FrameWriter(marker: ExtensionHeader.capabilities)
        for golden in Self.golden {
            let expected = Self.frameBytes(header: golden.header, content: golden.content)
            var parts = ByteBuffer()
            try writer.writeAction(golden.action, args: golden.args, kwargs: golden.kwargs, sequence: golden.sequence, acknowledged: golden.acknowledged, into: &parts)
            #expect(Array(parts.readableBytesView) == expected, "\(golden.header)")
            if let sequence = golden.sequence {
                var plain = ByteBuffer()
                try writer.writeAction(golden.action, args: golden.args, kwargs: golden.kwargs, into: &plain)
                var reused = ByteBuffer()
                #expect(try writer.writeAction(golden.action, reusing: plain, sequence: sequence, acknowledged: golden.acknowledged, into: &reused))
                #expect(Array(reused.readableBytesView) == expected, "\(golden.header)")
            }
            // Decoded, the numbers are typed; the decoded frame written again is the same frame.
            let frame = try decodeJSONFrame(expected)
            #expect(frame.header.deliverySequence == golden.sequence)
            #expect(frame.header.deliveryAcknowledgement == golden.acknowledged)
            #expect(frame.header.extra == ["x-clever": 1])
            var again = ByteBuffer()
            try writer.write(frame, into: &again)
            #expect(Array(again.readableBytesView) == expected, "\(golden.header)")
            // A frame made in memory with the numbers typed is written the same too.
            var made = Frame.action(golden.action, args: golden.args, kwargs: golden.kwargs)
            made.header.deliverySequence = golden.sequence
            made.header.deliveryAcknowledgement = golden.acknowledged
            var madeBytes = ByteBuffer()
            try writer.write(made, into: &madeBytes)
            #expect(Array(madeBytes.readableBytesView) == expected, "\(golden.header)")
        }
    }

    @Test("a number kept among the extra keys (made in memory) is written once, from the typed field when both are set")
    func extraAndTyped() throws {
        var writer = FrameWriter()
        var frame = Frame.action("go")
        frame.header.extra["x-clever-seq"] = 5
        var fromExtra = ByteBuffer()
        try writer.write(frame, into: &fromExtra)
        #expect(try decodeJSONFrame(Array(fromExtra.readableBytesView)).header.deliverySequence == 5)
        frame.header.deliverySequence = 6
        var both = ByteBuffer()
        try writer.write(frame, into: &both)
        let text = String(decoding: both.readableBytesView, as: UTF8.self)
        #expect(text.components(separatedBy: "x-clever-seq").count == 2, "\(text)")
        #expect(try decodeJSONFrame(Array(both.readableBytesView)).header.deliverySequence == 6)
    }

    @Test("digits are written as the signed writer wrote them, for every number a sequence can reach")
    func digits() {
        var random = SystemRandomNumberGenerator()
        var numbers: [UInt64] = [0, 1, 9, 10, 11, 99, 100, 999_999, 1_000_000, UInt64(Int.max) - 1, UInt64(Int.max)]
        for _ in 0..<2_000 { numbers.append(UInt64.random(in: 0...UInt64(Int.max), using: &random) >> UInt64.random(in: 0..<63, using: &random)) }
        for number in numbers {
            var unsigned = ByteBuffer()
            unsigned.writeJSONText(estimate: 20, maximumLength: { 20 }) { $0.write(unsigned: number) }
            var signed = ByteBuffer()
            signed.writeJSONText(estimate: 20, maximumLength: { 20 }) { $0.write(integer: Int(number)) }
            #expect(unsigned == signed, "\(number)")
            #expect(String(buffer: unsigned) == String(number))
        }
    }
}
