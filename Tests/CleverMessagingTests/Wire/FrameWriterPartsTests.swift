import NIOCore
import Testing

@testable import CleverMessaging

/// `FrameWriter.writeAction/writeRequest/writeResponse` write frames from
/// their parts; they must give exactly the bytes of writing the equivalent
/// `Frame`, which are the reference's.
@Suite("FrameWriter: frames from their parts")
struct FrameWriterPartsTests {
    /// Values of every JSON kind, small and large (large ones exceed the first guess of the content's room).
    static let values: [JSONValue] = [
        .null, true, false, 0, -1, .integer(.max), .bigInteger("123456789012345678901234567890"),
        1.5, .double(.nan), .double(.infinity), .double(-.infinity), 1e300, -0.0,
        "", "two", "é \u{1F681} \"quoted\" \\ \n\t\u{1}", .string(String(repeating: "x", count: 5000)),
        [], [1, "a", [nil, [:]]], .array((0..<700).map { .integer($0) }),
        [:], ["k": 1, "é": ["nested": [1.25, "z"]]],
    ]

    static func bytes(_ body: (inout ByteBuffer) throws -> Void) rethrows -> [UInt8] {
        var buffer = ByteBuffer()
        try body(&buffer)
        return Array(buffer.readableBytesView)
    }

    @Test("byte for byte the same as writing the Frame, with and without the marker", arguments: [nil, ExtensionHeader.capabilities])
    func sameBytes(marker: String?) throws {
        var writer = FrameWriter(marker: marker)
        let names = ["start", "led_fill", "ü-name \"q\"", String(repeating: "n", count: 3000)]
        for (index, value) in Self.values.enumerated() {
            let name = names[index % names.count]
            let args: [JSONValue] = index % 3 == 0 ? [] : [value, .integer(index)]
            let kwargs: JSONObject = index % 2 == 0 ? [:] : ["v": value, "i": .integer(index)]
            let id: JSONValue = index % 4 == 0 ? .integer(index) : .string(String(format: "%04d", index))

            let action = try Self.bytes { try writer.write(.action(name, args: args, kwargs: kwargs), into: &$0) }
            #expect(try Self.bytes { try writer.writeAction(name, args: args, kwargs: kwargs, into: &$0) } == action)

            let request = try Self.bytes { try writer.write(.request(name, id: id, args: args, kwargs: kwargs), into: &$0) }
            #expect(try Self.bytes { try writer.writeRequest(name, id: id, args: args, kwargs: kwargs, into: &$0) } == request)

            let response = try Self.bytes { try writer.write(.response(name, id: id, value: value), into: &$0) }
            #expect(try Self.bytes { try writer.writeResponse(name, id: id, value: value, into: &$0) } == response)
        }
    }

    @Test("an action with delivery keys made from a plain frame's content is byte for byte the one made from its parts")
    func reusedContent() throws {
        let writer = FrameWriter(marker: ExtensionHeader.capabilities)
        for (index, value) in Self.values.enumerated() {
            let args: [JSONValue] = [value, .integer(index)]
            let kwargs: JSONObject = index % 2 == 0 ? [:] : ["v": value]
            let acknowledged: UInt64? = index % 3 == 0 ? nil : UInt64(index)
            var plain = ByteBuffer(string: "before")
            plain.moveReaderIndex(forwardBy: 6)
            try writer.writeAction("led_fill", args: args, kwargs: kwargs, into: &plain)
            let fromParts = try Self.bytes {
                try writer.writeAction("led_fill", args: args, kwargs: kwargs, sequence: UInt64(index + 1), acknowledged: acknowledged, into: &$0)
            }
            var wrote = false
            let reused = try Self.bytes {
                wrote = try writer.writeAction("led_fill", reusing: plain, sequence: UInt64(index + 1), acknowledged: acknowledged, into: &$0)
            }
            #expect(wrote)
            #expect(reused == fromParts)
            var none = ByteBuffer()
            let wroteNone = try writer.writeAction("led_fill", reusing: ByteBuffer(string: "frame"), sequence: 1, acknowledged: nil, into: &none)
            #expect(!wroteNone)
            #expect(none.readableBytes == 0)
        }
    }

    @Test("appends after what the buffer holds, and several frames decode back in order")
    func appends() throws {
        let writer = FrameWriter(marker: ExtensionHeader.capabilities)
        var buffer = ByteBuffer(string: "prefix")
        try writer.writeAction("a", args: [1], kwargs: [:], into: &buffer)
        try writer.writeRequest("b", id: "0001", args: [], kwargs: ["k": "v"], into: &buffer)
        try writer.writeResponse("b", id: "0001", value: [1, 2], into: &buffer)
        #expect(buffer.readString(length: 6) == "prefix")
        let frames = try WireTestKit.decodeFrames(Array(buffer.readableBytesView))
        #expect(frames.map(\.header.messageType) == [.message, .request, .response])
        #expect(frames[0].header.action == "a")
        #expect(frames[1].content.jsonValue?["kwargs"] == ["k": "v"])
        #expect(frames[2].content.jsonValue?["value"] == [1, 2])
        #expect(frames.allSatisfy { $0.header.extra == [ExtensionHeader.capabilities: 1] })
    }
}
