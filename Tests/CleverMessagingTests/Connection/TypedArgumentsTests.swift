import CleverTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// Requests whose arguments come from an `Encodable`: encoded straight into
/// JSON text, kept as that text by the waiting request, and written from it
/// again after a reconnect; the bytes are those the values would make.
@Suite("Connection: typed request arguments as text", .timeLimit(.minutes(1)))
struct TypedArgumentsTests {
    /// Arguments that record which encoder wrote them.
    struct Arguments: Encodable, Sendable {
        let encoders: NIOLockedValueBox<[String]>
        var height: Double
        var name: String
        var path: [Double]

        enum CodingKeys: String, CodingKey { case height, name, path }

        func encode(to encoder: any Encoder) throws {
            encoders.withLockedValue { $0.append(String(describing: type(of: encoder))) }
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(height, forKey: .height)
            try container.encode(name, forKey: .name)
            try container.encode(path, forKey: .path)
        }
    }

    struct Echo: Decodable, Equatable {
        var args: [JSONValue]
        var kwargs: [String: JSONValue]
    }

    static let kwargs: JSONObject = ["height": 1.5, "name": "caf\u{E9} \"\u{1F681}\"", "path": [0.1, -0.0, 1e300]]

    static func arguments(_ encoders: NIOLockedValueBox<[String]> = .init([])) -> Arguments {
        Arguments(encoders: encoders, height: 1.5, name: "caf\u{E9} \"\u{1F681}\"", path: [0.1, -0.0, 1e300])
    }

    @Test("a request's encoded arguments make the bytes their values make, for every kind of writer")
    func sameBytes() throws {
        let cases: [(EncodedArguments, args: [JSONValue], kwargs: JSONObject)] = [
            (try EncodedArguments(Self.arguments(), of: "v"), [], Self.kwargs),
            (try EncodedArguments([1, 2, 3], of: "v"), [1, 2, 3], [:]),
            (try EncodedArguments([String: Int](), of: "v"), [], [:]),
            (try EncodedArguments([Int](), of: "v"), [], [:]),
        ]
        for marked in [false, true] {
            for (encoded, args, kwargs) in cases {
                let writer = marked ? FrameWriter(marker: ExtensionHeader.capabilities) : FrameWriter()
                var fromText = ByteBuffer()
                var fromValues = ByteBuffer()
                try writer.writeRequest("v", id: "0042", encoded: encoded, into: &fromText)
                try writer.writeRequest("v", id: "0042", args: args, kwargs: kwargs, into: &fromValues)
                #expect(fromText == fromValues, "\(String(buffer: fromText))")
                // And the fan-out's template of it.
                let request = PendingRequests.Entry.Request(requestedValue: "v", arguments: .encoded(encoded), timeout: nil)
                var templates = RequestFrameTemplates()
                var copy = writer
                var fromTemplate = ByteBuffer()
                try templates.write(request, number: 42, writer: &copy, announces: marked, into: &fromTemplate)
                #expect(fromTemplate == fromValues)
            }
        }
    }

    @Test("request(arguments:as:) encodes straight into text; bad arguments fail as before, with nothing sent")
    func overALink() async throws {
        try await SwiftPairTests.withPair { (_, _, serverSide) async throws in
            // The client's registry answers `echo` with its arguments.
            let encoders = NIOLockedValueBox<[String]>([])
            let echo = try await serverSide.request("echo", arguments: Self.arguments(encoders), as: Echo.self)
            #expect(echo == Echo(args: [], kwargs: Dictionary(uniqueKeysWithValues: Self.kwargs.map { ($0.key, $0.value) })))
            #expect(try await serverSide.request("echo", arguments: [true], as: Echo.self) == Echo(args: [true], kwargs: [:]))
            #expect(encoders.withLockedValue { $0 } == ["JSONTextEncoderImplementation"])
            // The plain reply type takes the values' way back.
            #expect(try await serverSide.request("echo", arguments: ["k": 1], as: JSONValue.self) == ["args": [], "kwargs": ["k": 1]])
            await #expect(throws: MessagingError.decoding("arguments of echo must encode to a JSON object or array")) {
                _ = try await serverSide.request("echo", arguments: 7, as: Echo.self)
            }
            #expect(serverSide.pendingRequestCount == 0)
        }
    }

    /// The frames written on `channel` since the last call.
    static func written(_ channel: EmbeddedChannel) throws -> (bytes: ByteBuffer, frames: [Frame]) {
        channel.embeddedEventLoop.run()
        var all = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&part) }
        var copy = all
        var decoder = FrameDecoder()
        var frames: [Frame] = []
        while let part = try decoder.decode(buffer: &copy) {
            if case .frame(let frame) = part { frames.append(frame) }
        }
        return (all, frames)
    }

    @Test("a request with encoded arguments waiting over a reconnect is written again from its text, and its typed reply decodes")
    func resendAfterReconnect() throws {
        let first = EmbeddedChannel()
        let loop = first.embeddedEventLoop
        let connection = Connection(eventLoop: loop, registry: HandlerRegistry())
        #expect(connection.configuration.resendRequests)
        try first.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
        try first.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()

        let encoders = NIOLockedValueBox<[String]>([])
        let encoded = try EncodedArguments(Self.arguments(encoders), of: "pose")
        let request = PendingRequests.Entry.Request(requestedValue: "pose", arguments: .encoded(encoded), timeout: .seconds(30))
        // Kept as text: no tree of the arguments is built.
        #expect(request.args.isEmpty && request.kwargs.isEmpty && request.encoded != nil)
        #expect(encoders.withLockedValue { $0 } == ["JSONTextEncoderImplementation"])
        let promise = loop.makePromise(of: ReplyPayload.self)
        let id = try connection.startAwaitedRequest(request, completion: .typed(promise))
        let sent = try Self.written(first)
        try #require(sent.frames.count == 1)
        #expect(sent.frames[0].content.jsonValue?["kwargs"] == .object(Self.kwargs))
        #expect(sent.frames[0].content.jsonValue?["request_id"] == .string(id))

        // The link drops; the request waits for the next one.
        try first.close().wait()
        loop.run()
        #expect(connection.pendingRequestCount == 1)
        let second = EmbeddedChannel(loop: loop)
        try second.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
        try second.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let again = try Self.written(second)
        try #require(again.frames.count == 1)
        // The same frame, byte for byte, from the same text.
        #expect(again.bytes == sent.bytes)
        #expect(encoders.withLockedValue { $0.count } == 1)

        var reply = ByteBuffer()
        try FrameWriter().writeResponse("pose", id: .string(id), valueText: ByteBuffer(string: #"{"height": 1.5, "name": "n", "path": []}"#), into: &reply)
        try second.writeInbound(reply)
        second.pipeline.fireChannelReadComplete()
        let payload = try #require(try TypedReplyTests.outcome(promise.futureResult)?.get())
        guard case .text = payload else {
            Issue.record("the reply was built as a value: \(payload)")
            return
        }
        struct Pose: Decodable, Equatable {
            var height: Double
            var name: String
            var path: [Double]
        }
        #expect(try payload.decode(as: Pose.self, name: "pose", limits: .init()) == Pose(height: 1.5, name: "n", path: []))
        #expect(connection.typedReplies.waiting == 0)
        _ = try? second.finish(acceptAlreadyClosed: true)
    }

    @Test("a timed start's request and a reference drone's start are the bytes their values make")
    func timedStartText() throws {
        let encoded = try EncodedArguments(keywords: Self.arguments(), of: "go")
        let start = encoded.timedStartRequest(id: "7f", action: "go", at: 1_700_000_002.125)
        var values = ByteBuffer()
        JSONWriter.writeObject(TimedStartRequest(id: "7f", action: "go", kwargs: Self.kwargs, at: 1_700_000_002.125).jsonObject, into: &values)
        #expect(start.text == values)
        #expect(start.isObject)

        var timed = Self.kwargs
        timed["time"] = "1700000002.1"
        values.clear()
        JSONWriter.writeObject(timed, into: &values)
        #expect(encoded.adding("time", string: "1700000002.1")?.text == values)
        values.clear()
        JSONWriter.writeObject(["time": "1.5"], into: &values)
        #expect(try EncodedArguments(keywords: [String: Int](), of: "go").adding("time", string: "1.5")?.text == values)
        // Arguments that may hold the key already are left to the values (whose member is replaced in place).
        #expect(try EncodedArguments(keywords: ["time": 1], of: "go").adding("time", string: "1.5") == nil)
        #expect(try EncodedArguments([1], of: "go").adding("time", string: "1.5") == nil)
    }
}
