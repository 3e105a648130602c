import CleverMessaging
import NIOCore
import Testing

/// ``RequestFrameTemplate``: a request encoded once, each copy with its own id,
/// byte for byte what the writer makes for that id.
@Suite("Request frame template")
struct RequestFrameTemplateTests {
    static let numbers = [1, 9, 42, 999, 1000, 9999, 10_000, 65_535, 123_456, 9_999_999_999]

    static func request(_ kwargs: JSONObject, args: [JSONValue] = []) -> PendingRequests.Entry.Request {
        PendingRequests.Entry.Request(requestedValue: "telemetry", args: args, kwargs: kwargs, timeout: .seconds(1))
    }

    static func encoded(_ request: PendingRequests.Entry.Request, number: Int, marker: String?) throws -> ByteBuffer {
        var out = ByteBuffer()
        try FrameWriter(marker: marker).writeRequest(
            request.requestedValue, id: .string(RequestID.format(number)), args: request.args, kwargs: request.kwargs, into: &out
        )
        return out
    }

    @Test("copies match the writer's own frames, for both kinds of writer and every id length", arguments: [nil, ExtensionHeader.capabilities])
    func matchesWriter(marker: String?) throws {
        let request = Self.request(["r": 255, "name": "0000 1111 \"x\"", "nested": ["a": [1.5, -0.0, "0001"]]], args: ["1111", 0])
        var templates = RequestFrameTemplates()
        var writer = FrameWriter(marker: marker)
        for number in Self.numbers {
            var out = ByteBuffer(string: "before")
            try templates.write(request, number: number, writer: &writer, announces: marker != nil, into: &out)
            var expected = ByteBuffer(string: "before")
            var frame = try Self.encoded(request, number: number, marker: marker)
            expected.writeBuffer(&frame)
            #expect(out == expected, "request \(number)")
        }
    }

    @Test("one template per id length: the digits are written over its placeholder")
    func template() throws {
        var writer = FrameWriter()
        let made = try RequestFrameTemplate(writer: &writer, requestedValue: "position", args: [], kwargs: [:], idLength: 5)
        let template = try #require(made)
        #expect(template.idLength == 5)
        var out = ByteBuffer()
        template.write(number: 12_345, into: &out)
        #expect(out == (try Self.encoded(Self.request([:]).renamed("position"), number: 12_345, marker: nil)))
        #expect(RequestFrameTemplate.idLength(of: 1) == 4)
        #expect(RequestFrameTemplate.idLength(of: 9999) == 4)
        #expect(RequestFrameTemplate.idLength(of: 10_000) == 5)
    }

    @Test("links of both kinds in one fan-out each get their own writer's bytes")
    func mixedWriters() throws {
        let request = Self.request(["g": 0])
        var templates = RequestFrameTemplates()
        var plain = FrameWriter()
        var marked = FrameWriter(marker: ExtensionHeader.capabilities)
        for number in [5, 6, 12_000] {
            var a = ByteBuffer()
            var b = ByteBuffer()
            try templates.write(request, number: number, writer: &plain, announces: false, into: &a)
            try templates.write(request, number: number, writer: &marked, announces: true, into: &b)
            #expect(a == (try Self.encoded(request, number: number, marker: nil)))
            #expect(b == (try Self.encoded(request, number: number, marker: ExtensionHeader.capabilities)))
        }
    }
}

extension PendingRequests.Entry.Request {
    /// The same request for another value.
    func renamed(_ name: String) -> PendingRequests.Entry.Request {
        PendingRequests.Entry.Request(requestedValue: name, args: args, kwargs: kwargs, timeout: timeout)
    }
}
