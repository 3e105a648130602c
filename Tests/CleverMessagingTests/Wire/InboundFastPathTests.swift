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
        // The twelve headers written here and the nine valid variants.
        #expect(decoded == 12 + 9)
    }
}
