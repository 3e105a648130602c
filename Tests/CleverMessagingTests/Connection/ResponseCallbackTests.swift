import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// `get_response` requests, whose callback lives in the request object
/// (``ResponseCallback``), and how their replies' ids are matched.
@Suite("Connection: get_response callbacks kept in the request")
struct ResponseCallbackTests {
    /// A connection linked on an `EmbeddedChannel`, and a log of what its callbacks saw.
    struct Harness {
        /// The linked connection, without resends (``TypedReplyTests/Harness``).
        let link: TypedReplyTests.Harness
        let log = NIOLockedValueBox<[String]>([])
        var channel: EmbeddedChannel { link.channel }
        var connection: Connection { link.connection }

        init() throws {
            link = try TypedReplyTests.Harness()
        }

        /// Asks for "v"; the callback logs the value and its callback arguments, `onError` the failure.
        func ask(_ tag: String) throws -> String {
            try connection.getResponse(
                "v", requestArgs: [1], callbackArgs: [.string(tag)], callbackKwargs: ["k": .integer(7)],
                onError: { [log] error in log.withLockedValue { $0.append("\(tag) failed: \(error)") } }
            ) { [log] _, value, args, kwargs in
                log.withLockedValue { $0.append("\(tag) reply \(value) \(args) \(kwargs["k"] ?? .null)") }
            }
        }

        func feed(_ bytes: ByteBuffer) throws {
            try channel.writeInbound(bytes)
            channel.pipeline.fireChannelReadComplete()
        }
    }

    /// The ids as they were formatted before they were written in one pass: the wire must not change.
    static func formerFormat(_ number: Int) -> String {
        let digits = String(number)
        return digits.count >= 4 ? digits : String(repeating: "0", count: 4 - digits.count) + digits
    }

    @Test("request ids are exactly the former zero-padded decimal text, across every length")
    func idsUnchanged() {
        var numbers = Array(0...20_000)
        var power = 10
        while power <= Int.max / 10 {
            numbers += [power - 1, power, power + 1]
            power *= 10
        }
        numbers += [Int.max - 1, Int.max, -1, -42, Int.min]
        for number in numbers {
            #expect(RequestID.format(number) == Self.formerFormat(number), "\(number)")
        }
        #expect(RequestID.format(7) == "0007")
        #expect(RequestID.format(123_456_789_012_345_678) == "123456789012345678")
    }

    @Test("the callback gets the value with its callback arguments; the returned ids are those on the wire")
    func callbackAndArguments() throws {
        let harness = try Harness()
        let first = try harness.ask("a")
        let second = try harness.ask("b")
        #expect(first == "0001")
        #expect(second == "0002")
        var writer = FrameWriter()
        var bytes = ByteBuffer()
        try writer.write(.response("v", id: .string(second), value: 2), into: &bytes)
        try writer.write(.response("v", id: .string(first), value: [1]), into: &bytes)
        try harness.feed(bytes)
        #expect(harness.log.withLockedValue { $0 } == ["b reply 2 [\"b\"] 7", "a reply [1] [\"a\"] 7"])
        #expect(harness.connection.state.withLockedValue { $0.pending.count } == 0)
    }

    @Test("a reply's id matches only as the same JSON string: another spelling of the string does, a number or more zeros does not")
    func idSpellings() throws {
        let harness = try Harness()
        let first = try harness.ask("a")
        let second = try harness.ask("b")
        var writer = FrameWriter()
        var bytes = ByteBuffer()
        // Not the id: the number itself, and the same number with more padding.
        try writer.write(.response("v", id: .integer(1), value: 0), into: &bytes)
        try writer.write(.response("v", id: .string("00001"), value: 0), into: &bytes)
        try writer.write(.response("v", id: .string("1"), value: 0), into: &bytes)
        try writer.write(.response("v", id: .double(2), value: 0), into: &bytes)
        try harness.feed(bytes)
        #expect(harness.log.withLockedValue { $0 }.isEmpty)
        #expect(harness.connection.state.withLockedValue { $0.pending.count } == 2)
        // The same string written with a JSON escape ("\u0030001" is "0001") is the id.
        bytes.clear()
        try writer.write(.response("v", id: .string("@@@@@@@@@"), value: 1), into: &bytes)
        var text = Array(bytes.readableBytesView)
        let placeholder = Array("@@@@@@@@@".utf8)
        let at = try #require((0...(text.count - placeholder.count)).first { Array(text[$0..<$0 + placeholder.count]) == placeholder })
        text.replaceSubrange(at..<at + placeholder.count, with: Array(#"\u0030001"#.utf8))
        try harness.feed(ByteBuffer(bytes: text))
        #expect(first == "0001")
        #expect(harness.log.withLockedValue { $0 } == ["a reply 1 [\"a\"] 7"])
        bytes.clear()
        try writer.write(.response("v", id: .string(second), value: 2), into: &bytes)
        try harness.feed(bytes)
        #expect(harness.log.withLockedValue { $0.last } == "b reply 2 [\"b\"] 7")
        #expect(harness.connection.state.withLockedValue { $0.pending.count } == 0)
    }

    @Test("a failed request tells onError, once: cancelled by id, and the rest when the link goes")
    func failures() throws {
        let harness = try Harness()
        let first = try harness.ask("a")
        _ = try harness.ask("b")
        harness.connection.failRequest(id: first, with: .cancelled)
        harness.connection.failRequest(id: first, with: .cancelled)
        #expect(harness.log.withLockedValue { $0 } == ["a failed: \(MessagingError.cancelled)"])
        try harness.channel.close().wait()
        #expect(harness.log.withLockedValue { $0 } == ["a failed: \(MessagingError.cancelled)", "b failed: \(MessagingError.connectionLost)"])
    }

    @Test("a get_response entry is one request object: its completion names the request's own callback")
    func oneObject() throws {
        let harness = try Harness()
        let id = try harness.ask("a")
        let number = try #require(RequestID.number(id))
        let kept = harness.connection.state.withLockedValue { s in
            s.pending.entries.withValue(number) { entry -> Bool in
                guard case .requestCallback = entry.completion else { return false }
                return entry.request.callback != nil
            }
        }
        #expect(kept == true)
    }
}
