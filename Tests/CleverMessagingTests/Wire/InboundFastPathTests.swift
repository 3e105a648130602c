import Foundation
import NIOCore
import Testing

@testable import CleverMessaging

/// The connection's decoding shortcuts against the general paths they stand
/// in for: content read straight into its members, and the header layout of
/// this library's own frames.
@Suite("Inbound fast paths")
struct InboundFastPathTests {
    /// Contents of every shape a peer may send, valid and not.
    static let contents: [String] = [
        #"{"args": [1, "two", 3.5, null, true], "kwargs": {"time": "1700000000.5"}}"#,
        #"{"requested_value": "echo", "request_id": "0001", "args": [1], "kwargs": {}}"#,
        #"{"requested_value": "echo", "request_id": 42, "args": null, "kwargs": null}"#,
        #"{"value": [1, {"a": NaN}], "error": {"code": "x", "message": "y"}}"#,
        #"{"value": null}"#, #"{}"#, #"[]"#, #"3"#, #""text""#, #"null"#, " { \"args\" : [ ] } ",
        #"{"args": [1], "args": 2}"#, #"{"args": 2, "args": [1]}"#, #"{"kwargs": [1], "other": {"deep": [[]]}}"#,
        #"{"\u0061rgs": [7], "kw\u0061rgs": {"k": 1}, "é": 1, "\ud83d\ude81": 2}"#,
        #"{"args": [1], "kwargs": {"k": 1, "k": 2}}"#,
        // Invalid: each must fail with the same error as the general parser.
        #"{"args": [1,]}"#, #"{"args" [1]}"#, #"{"args": [1]"#, #"{"args": [1]} x"#, #"{"a\u12": 1}"#,
        "{\"a\u{1}\": 1}", #"{1: 2}"#, #"{"args": [1], }"#, "", "   ", #"{"value": 01}"#,
        #"{"args": ["\ud800"]}"#, #"{"value": -}"#,
    ]

    /// Whether two sets of members are equal.
    static func same(_ a: ContentMembers, _ b: ContentMembers) -> Bool {
        a.args == b.args && a.kwargs == b.kwargs && a.requestedValue == b.requestedValue
            && a.requestID == b.requestID && a.value == b.value && a.error == b.error
    }

    @Test("content members are exactly those of the parsed content, errors included")
    func contentMembersMatchGeneralParse() {
        var texts = Self.contents.map { Array($0.utf8) }
        texts.append([UInt8(ascii: "{"), UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: "1"), UInt8(ascii: "}")])
        texts.append(Array(String(repeating: "[", count: 600).utf8))
        texts.append(Array(("{\"args\": " + String(repeating: "[", count: 511) + String(repeating: "]", count: 511) + "}").utf8))
        for text in texts {
            let general = text.withUnsafeBytes { raw in Result { () throws(JSONParsingError) in try JSONParser.parse(raw) } }
            let members = text.withUnsafeBytes { raw in
                Result { () throws(JSONParsingError) in try JSONParser.parseContentMembers(raw, limits: .init()) }
            }
            switch (general, members) {
            case (.success(let value), .success(let members)):
                #expect(Self.same(members, ContentMembers(value)), "\(String(decoding: text, as: UTF8.self))")
            case (.failure(let a), .failure(let b)):
                #expect(a == b, "\(String(decoding: text, as: UTF8.self))")
            default:
                Issue.record("\(String(decoding: text, as: UTF8.self)): \(general) vs \(members)")
            }
        }
    }

    /// Contents whose `kwargs` share keys with each other in every way: the
    /// same, fewer, more, reordered, repeated, escaped, non-ASCII, nested, many.
    static let kwargsContents: [String] = [
        #"{"args": [1], "kwargs": {"time": "1700000000.5"}}"#,
        #"{"args": [2], "kwargs": {"time": 3}}"#,
        #"{"kwargs": {"time": 1, "mode": "x"}}"#,
        #"{"kwargs": {"mode": "x", "time": 1}}"#,
        #"{"kwargs": {"time": 1, "time": 2}}"#,
        #"{"kwargs": {"time": 1, "mode": 2, "time": 3}}"#,
        #"{"kwargs": {"\u0074ime": 1}}"#,
        #"{"kwargs": {"tim": 1}}"#, #"{"kwargs": {"timee": 1}}"#, #"{"kwargs": {"": 1}}"#, #"{"kwargs": {"": 1, "time": 2}}"#,
        #"{"kwargs": {"zeit é": {"time": [1, {"time": 2}]}}}"#,
        #"{"kwargs": {"zeit é": 1, "k": null}}"#,
        #"{"kwargs": {"time": 1, "mode": 2"#, #"{"kwargs": {"time" 1}}"#, #"{"kwargs": {"time": }}"#, #"{"kwargs": {time: 1}}"#,
        #"{"kwargs": {"time": 1,}}"#, #"{"kwargs": {"ti\u00"#, "{\"kwargs\": {\"ti\u{1}me\": 1}}",
        #"{"kwargs": []}"#, #"{"kwargs": {}}"#, #"{"kwargs": null, "args": {"time": 1}}"#,
        #"{"kwargs": {"time": 1}, "kwargs": {"time": 2, "mode": 3}}"#,
        "{\"kwargs\": {" + (0..<20).map { "\"k\($0)\": \($0)" }.joined(separator: ", ") + "}}",
        "{\"kwargs\": {" + (0..<16).map { "\"k\($0)\": \($0)" }.joined(separator: ", ") + "}}",
        "{\"kwargs\": {" + (0..<16).map { "\"k\($0)\": \($0)" }.joined(separator: ", ") + ", \"k3\": 0}}",
    ]

    /// Members or the error of `text`, read with `keys` as the cached kwargs keys.
    static func members(_ text: [UInt8], keys: inout ContiguousArray<String>) -> Result<ContentMembers, JSONParsingError> {
        text.withUnsafeBytes { raw in
            Result { () throws(JSONParsingError) in try JSONParser.parseContentMembers(raw, limits: .init(), kwargsKeys: &keys) }
        }
    }

    @Test("reused kwargs keys give exactly the members and errors of the general parser, whatever came before")
    func reusedKwargsKeysMatchGeneralParse() {
        let texts = (Self.kwargsContents + Self.contents).map { Array($0.utf8) }
        var reused = 0
        for before in texts {
            for text in texts {
                var keys = ContiguousArray<String>()
                _ = Self.members(before, keys: &keys)
                let cachedBefore = keys
                let general = text.withUnsafeBytes { raw in Result { () throws(JSONParsingError) in try JSONParser.parse(raw) } }
                for _ in 0..<2 {
                    switch (general, Self.members(text, keys: &keys)) {
                    case (.success(let value), .success(let members)):
                        #expect(Self.same(members, ContentMembers(value)), "\(String(decoding: before, as: UTF8.self)) then \(String(decoding: text, as: UTF8.self))")
                        if !cachedBefore.isEmpty, members.kwargs.keys.elements == Array(cachedBefore) { reused += 1 }
                    case (.failure(let a), .failure(let b)):
                        #expect(a == b, "\(String(decoding: before, as: UTF8.self)) then \(String(decoding: text, as: UTF8.self))")
                    case (let a, let b):
                        Issue.record("\(String(decoding: before, as: UTF8.self)) then \(String(decoding: text, as: UTF8.self)): \(a) vs \(b)")
                    }
                }
            }
        }
        #expect(reused > 0)
    }

    @Test("an object with the cached keys shares their storage")
    func reusedKeysAreShared() throws {
        var keys = ContiguousArray<String>()
        let text = Array(#"{"kwargs": {"time": 1, "mode": "x"}}"#.utf8)
        let first = try Self.members(text, keys: &keys).get()
        let second = try Self.members(text, keys: &keys).get()
        #expect(first.kwargs == second.kwargs)
        #expect(keys == ["time", "mode"])
        let shared = second.kwargs.keys.elements.withUnsafeBufferPointer { a in keys.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
        #expect(shared)
    }

    /// The headers this library writes, and variants that must leave the fast path.
    static func headers() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for marker in [nil, ExtensionHeader.capabilities] {
            var writer = FrameWriter(marker: marker)
            var buffer = ByteBuffer()
            try writer.writeAction("start", args: [1], kwargs: [:], into: &buffer)
            try writer.writeAction("é \"q\"", args: [], kwargs: [:], into: &buffer)
            try writer.writeRequest("echo", id: "0001", args: [1], kwargs: [:], into: &buffer)
            try writer.writeResponse("echo", id: "0001", value: [1], into: &buffer)
            try writer.writeResponse("echo", id: 7, value: [1], into: &buffer)
            try writer.write(.filePush(path: "a/b", bytes: ByteBuffer(bytes: [1, 2])), into: &buffer)
            // Actions of acknowledged delivery: a sequence number, an acknowledgement, both.
            try writer.writeAction("start", args: [1], kwargs: [:], sequence: 7, acknowledged: nil, into: &buffer)
            try writer.writeAction("start", args: [1], kwargs: [:], sequence: 123_456_789_012, acknowledged: 0, into: &buffer)
            try writer.writeAction(ExtensionHeader.acknowledged, args: [], kwargs: [:], sequence: nil, acknowledged: 40, into: &buffer)
            while let length = buffer.readInteger(as: UInt16.self) {
                out.append(buffer.readBytes(length: Int(length))!)
                // Skip the content.
                let header = try out.last!.withUnsafeBytes { try FrameHeader.parse($0) }
                buffer.moveReaderIndex(forwardBy: header.contentLength)
            }
        }
        let prefix = #"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": 12"#
        for tail in [
            #", "message-type": "message", "action": "go", "x-clever": 1, "more": 2}"#,
            #", "message-type": "message", "action": "go", "x-clever": 2}"#,
            #", "message-type": "message", "action": "g\u006f", "x-clever": 1}"#,
            #", "message-type": "message", "action": 5}"#,
            #", "message-type": "message", "action": "go"} "#,
            #", "message-type": "message", "action": "go", "action": "again"}"#,
            #", "message-type": "request", "request_id": "9"}"#,
            #", "message-type": "response", "requested_value": "v", "request_id": 3}"#,
            #", "message-type": "response", "requested_value": "v"}"#,
            #", "message-type": "message"}"#,
            #", "message-type": "message", "action": "go"#,
            #", "message-type": "message", "action": "a\#u{1}b"}"#,
            #", "message-type": "message", "action": "go", "x-clever-seq": 3, "x-clever-acked": 2, "x-clever": 1}"#,
            #", "message-type": "message", "action": "go", "x-clever-acked": 2, "x-clever-seq": 3, "x-clever": 1}"#,
            #", "message-type": "message", "action": "go", "x-clever-seq": 03, "x-clever": 1}"#,
            #", "message-type": "message", "action": "go", "x-clever-seq": -3, "x-clever": 1}"#,
            #", "message-type": "message", "action": "go", "x-clever-seq": 3.5, "x-clever": 1}"#,
            #", "message-type": "message", "action": "go", "x-clever-seq": "3", "x-clever": 1}"#,
            #", "message-type": "message", "action": "go", "x-clever-seq": 1234567890123456, "x-clever": 1}"#,
            #", "message-type": "message", "action": "go", "x-clever-seq": 3, "x-clever-seq": 4}"#,
            #", "message-type": "message", "action": "go", "x-clever-seq": }"#,
        ] {
            out.append(Array((prefix + tail).utf8))
        }
        out.append(Array((#"{"byteorder": "little", "content-type": "json", "content-encoding": "utf-8", "content-length": -1"# + #", "message-type": "request"}"#).utf8))
        return out
    }

    @Test("this library's header layout decodes as the general parser reads it, errors included")
    func libraryHeadersMatchGeneralParse() throws {
        var decoded = 0
        for header in try Self.headers() {
            let fast = header.withUnsafeBytes { raw in Result { () throws(FrameDecodingError) in try FrameHeader.parse(raw) } }
            // The same header with other spacing, which only the general parser reads.
            let spaced = Array(String(decoding: header, as: UTF8.self).replacingOccurrences(of: "\": ", with: "\" : ").utf8)
            let general = spaced.withUnsafeBytes { raw in Result { () throws(FrameDecodingError) in try FrameHeader.parse(raw) } }
            switch (fast, general) {
            case (.success(let a), .success(let b)):
                #expect(a == b, "\(String(decoding: header, as: UTF8.self))")
                decoded += 1
            case (.failure, .failure):
                break  // Offsets differ with the spacing; both refuse it.
            default:
                Issue.record("\(String(decoding: header, as: UTF8.self)): \(fast) vs \(general)")
            }
        }
        // The eighteen headers written here and the sixteen valid variants (a leading zero or a missing value is refused).
        #expect(decoded == 18 + 16)
    }
}
