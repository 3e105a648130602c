import CleverTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// Typed replies decoded straight from the reply frame's text, without a
/// ``JSONValue`` tree, beside replies taken as values, which read as before.
@Suite("Connection: typed replies straight from the text", .timeLimit(.minutes(1)))
struct TypedReplyTests {
    struct Pose: Codable, Sendable, Equatable {
        var name: String
        var x: Double
        var path: [Double]
        var tags: [String: Int]?
    }

    /// A reply type that records which decoder made it.
    struct Probe: Decodable, Sendable {
        var decoder: String
        var pose: Pose

        init(from decoder: any Decoder) throws {
            self.decoder = String(describing: type(of: decoder))
            self.pose = try Pose(from: decoder)
        }
    }

    // MARK: - Over a link

    @Test("a typed reply is decoded from its text: no JSONValue tree is built for it")
    func typedReplyFromText() async throws {
        let registry = makeTestRegistry()
        let pose: JSONValue = ["name": "a \"b\"\n\u{1F681} caf\u{E9}", "x": 0.1, "path": [1e16, .double(-0.0), 5e-324, 1.7976931348623157e308], "tags": ["k": 3]]
        registry.onRequest("pose") { _, _, _ in pose }
        try await SwiftPairTests.withPair(serverRegistry: registry) { _, client, _ in
            let connection = client.connection
            let probe = try await connection.request("pose", as: Probe.self)
            #expect(probe.decoder == "JSONTextDecoderImplementation")
            #expect(probe.pose == Pose(name: "a \"b\"\n\u{1F681} caf\u{E9}", x: 0.1, path: [1e16, -0.0, 5e-324, 1.7976931348623157e308], tags: ["k": 3]))
            #expect(probe.pose.path[1].sign == .minus)
            #expect(connection.typedReplies.decodedFromText == 1)
            #expect(connection.typedReplies.decodedFromValue == 0)
            // With arguments, and through the station's single-drone form (the same path).
            let again = try await connection.request("pose", arguments: ["unused": 1], as: Pose.self)
            #expect(again == probe.pose)
            #expect(connection.typedReplies.decodedFromText == 2)
            #expect(connection.typedReplies.decodedFromValue == 0)
            #expect(connection.typedReplies.waiting == 0)
        }
    }

    @Test("a typed reply that does not decode fails with the same error as when decoded from a value")
    func decodingErrors() async throws {
        let registry = makeTestRegistry()
        let replies: [String: JSONValue] = [
            "wrong_type": ["name": 1, "x": 0.5, "path": []],
            "missing_key": ["name": "n", "path": []],
            "not_object": [1, 2],
            "null": .null,
            "too_big": ["name": "n", "x": 1, "path": [], "tags": ["k": 1e300]],
        ]
        for (name, value) in replies { registry.onRequest(name) { _, _, _ in value } }
        try await SwiftPairTests.withPair(serverRegistry: registry) { _, client, _ in
            let connection = client.connection
            for (name, value) in replies.sorted(by: { $0.key < $1.key }) {
                var expectedError: MessagingError?
                do throws(MessagingError) { _ = try MessageArguments.decode(value, as: Pose.self, name: name) } catch { expectedError = error }
                var gotError: MessagingError?
                do throws(MessagingError) { _ = try await connection.request(name, as: Pose.self) } catch { gotError = error }
                guard let expectedError, let error = gotError else {
                    Issue.record("\(name) decoded")
                    continue
                }
                #expect(error.code == expectedError.code)
                #expect(error == expectedError, "\(name)")
            }
            #expect(connection.typedReplies.decodedFromText == replies.count)
            #expect(connection.typedReplies.decodedFromValue == 0)
            #expect(connection.typedReplies.waiting == 0)
        }
    }

    @Test("JSONValue replies are unchanged, beside typed requests waiting on the same connection")
    func valueRepliesUnchanged() async throws {
        let registry = makeTestRegistry()
        // (arrived, released): the slow reply goes out when the test says so.
        let gate = Watched((arrived: false, released: false))
        let value: JSONValue = ["name": "v", "x": 2.5, "path": [0.1], "nested": ["a": [true, .null, "\u{E9}"]]]
        registry.onRequest("value") { _, _, _ in value }
        registry.onRequest("held") { (_, _, _) async in
            gate.update { $0.arrived = true }
            await gate.wait(timeout: .seconds(30)) { $0.released }
            return ["name": "held", "x": 1, "path": []]
        }
        try await SwiftPairTests.withPair(serverRegistry: registry) { (_, client, _) async throws in
            let connection = client.connection
            #expect(try await connection.request("value") == value)
            #expect(try await connection.request("value", as: JSONValue.self) == value)
            #expect(connection.typedReplies.decodedFromText == 0)
            // A typed request waits while plain ones are answered: theirs are still built as values.
            async let held = connection.request("held", as: Pose.self)
            #expect(await gate.wait { $0.arrived })
            #expect(connection.typedReplies.waiting == 1)
            #expect(try await connection.request("value") == value)
            #expect(try await connection.request("value", args: [1], kwargs: ["k": "v"]) == value)
            gate.update { $0.released = true }
            #expect(try await held == Pose(name: "held", x: 1, path: []))
            #expect(connection.typedReplies.decodedFromText == 1)
            #expect(connection.typedReplies.waiting == 0)
        }
    }

    struct Echo: Decodable, Equatable {
        var args: [Int]
        var kwargs: [String: String]
    }

    @Test("a server's connection asking its client decodes the typed reply from the text too")
    func serverSideRequest() async throws {
        try await SwiftPairTests.withPair { (_, _, serverSide) async throws in
            // The client's registry answers `echo`.
            #expect(try await serverSide.request("echo", arguments: ["name": "x \u{1F681}"], as: Echo.self) == Echo(args: [], kwargs: ["name": "x \u{1F681}"]))
            #expect(try await serverSide.request("echo", arguments: [1, 2], as: Echo.self) == Echo(args: [1, 2], kwargs: [:]))
            #expect(serverSide.typedReplies.decodedFromText == 2)
            #expect(serverSide.typedReplies.decodedFromValue == 0)
        }
    }

    // MARK: - The read loop, byte by byte

    /// A connection on an `EmbeddedChannel`, without resends (a request fails with its link).
    struct Harness {
        let channel = EmbeddedChannel()
        let connection: Connection

        init() throws {
            var configuration = ConnectionConfiguration()
            configuration.resendRequests = false
            connection = Connection(eventLoop: channel.eventLoop, registry: HandlerRegistry(), configuration: configuration)
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        /// Starts a request for `name` that asks for a typed reply.
        func typedRequest(_ name: String) throws -> (id: String, reply: EventLoopFuture<ReplyPayload>) {
            let promise = channel.eventLoop.makePromise(of: ReplyPayload.self)
            let id = try connection.startRequest(name, args: [], kwargs: [:], completion: .typed(promise), timeout: nil)
            return (id, promise.futureResult)
        }

        /// Feeds a response to `id` whose content's `value` is the raw `valueText`.
        func respond(_ name: String, id: String, valueText: String) throws {
            var bytes = ByteBuffer()
            try FrameWriter().writeResponse(name, id: .string(id), valueText: ByteBuffer(string: valueText), into: &bytes)
            try channel.writeInbound(bytes)
            channel.pipeline.fireChannelReadComplete()
        }
    }

    /// Appends `frame` to `bytes`, without the header marker.
    static func write(_ frame: Frame, into bytes: inout ByteBuffer) throws {
        var writer = FrameWriter()
        try writer.write(frame, into: &bytes)
    }

    /// What `future` (completed on the embedded loop) holds.
    static func outcome<T: Sendable>(_ future: EventLoopFuture<T>) -> Result<T, any Error>? {
        let box = NIOLockedValueBox<Result<T, any Error>?>(nil)
        future.whenComplete { result in box.withLockedValue { $0 = result } }
        return box.withLockedValue { $0 }
    }

    @Test("the read loop hands a typed request its reply's text: escapes, raw UTF-8, floats, repeated keys")
    func readLoopKeepsText() throws {
        let harness = try Harness()
        let (id, reply) = try harness.typedRequest("pose")
        #expect(harness.connection.typedReplies.waiting == 1)
        // Escaped keys, escaped and raw non-ASCII text; an earlier `value` member is overridden by the last.
        let text = #"{"name": 1}, "value": {"n\u0061me": "caf\u00e9 \ud83d\ude81 \u2615\t\"q\"", "x": -1.5e-3, "path": [0.1, 1E2, -0.0, 123456789012345678], "tags": {"\u00e9": 7}}"#
        try harness.respond("pose", id: id, valueText: text)
        let payload = try #require(try Self.outcome(reply)?.get())
        guard case .text(let kept) = payload else {
            Issue.record("the reply was built as a value: \(payload)")
            return
        }
        #expect(kept.readableBytes > 0)
        let pose = try payload.decode(as: Pose.self, name: "pose", limits: .init())
        #expect(pose == Pose(name: "caf\u{E9} \u{1F681} \u{2615}\t\"q\"", x: -1.5e-3, path: [0.1, 100, -0.0, 123456789012345678], tags: ["\u{E9}": 7]))
        #expect(payload.jsonValue == ["name": "caf\u{E9} \u{1F681} \u{2615}\t\"q\"", "x": -1.5e-3, "path": [0.1, 100.0, .double(-0.0), 123456789012345678], "tags": ["\u{E9}": 7]])
        #expect(harness.connection.typedReplies.waiting == 0)
    }

    @Test("a plain request's reply is built as before, even while a typed one waits")
    func readLoopPlainReply() throws {
        let harness = try Harness()
        let typed = try harness.typedRequest("pose")
        let plain = NIOLockedValueBox<JSONValue?>(nil)
        let plainID = try harness.connection.getResponse("plain") { _, value, _, _ in plain.withLockedValue { $0 = value } }
        try harness.respond("plain", id: plainID, valueText: #"{"a": [1, 2.5, "\u00e9"]}"#)
        #expect(plain.withLockedValue { $0 } == ["a": [1, 2.5, "\u{E9}"]])
        try harness.respond("pose", id: typed.id, valueText: #"{"name": "n", "x": 1, "path": []}"#)
        guard case .text? = try Self.outcome(typed.reply)?.get() else {
            Issue.record("the typed reply was not kept as text")
            return
        }
    }

    @Test("an error reply, a reply without a value, and a malformed reply fail a typed request as a plain one")
    func readLoopFailures() throws {
        let harness = try Harness()
        // An error reply (this library's error extension) is the peer's error, not a decoding error.
        let (errorID, errorReply) = try harness.typedRequest("pose")
        var frame = Frame.response("pose", id: .string(errorID), value: .null)
        frame.content = .json(["value": .null, "error": RemoteError(code: RemoteError.Code.handlerFailed, message: "no").jsonValue])
        var bytes = ByteBuffer()
        try Self.write(frame, into: &bytes)
        try harness.channel.writeInbound(bytes)
        guard case .failure(let error as MessagingError)? = Self.outcome(errorReply), case .remote(let remote) = error else {
            Issue.record("not the peer's error: \(String(describing: Self.outcome(errorReply)))")
            return
        }
        #expect(remote.message == "no")

        // No `value` member: decoded from `null`, as before.
        let (emptyID, emptyReply) = try harness.typedRequest("pose")
        var empty = Frame.response("pose", id: .string(emptyID), value: .null)
        empty.content = .json([:])
        bytes.clear()
        try Self.write(empty, into: &bytes)
        try harness.channel.writeInbound(bytes)
        let payload = try #require(try Self.outcome(emptyReply)?.get())
        #expect(throws: MessagingError.decoding("reply to pose does not decode as Pose: \(Self.nullError())")) {
            try payload.decode(as: Pose.self, name: "pose", limits: .init())
        }

        // Malformed text: the link fails, and the request with it, as a plain request would.
        let (badID, badReply) = try harness.typedRequest("pose")
        let plainFailure = NIOLockedValueBox<MessagingError?>(nil)
        try harness.connection.getResponse("plain", onError: { error in plainFailure.withLockedValue { $0 = error } }) { _, _, _, _ in }
        // (The handler closes the link; whether the embedded channel also rethrows does not matter here.)
        _ = try? harness.respond("pose", id: badID, valueText: #"{"name": "n", "x": }"#)
        guard case .failure(let badError as MessagingError)? = Self.outcome(badReply) else {
            Issue.record("the malformed reply did not fail the request")
            return
        }
        #expect(badError == .connectionLost)
        #expect(plainFailure.withLockedValue { $0 } == .connectionLost)
        #expect(harness.connection.typedReplies.waiting == 0)
    }

    /// The error `JSONValueDecoder` gives for a `Pose` from `null`.
    static func nullError() -> String {
        do {
            _ = try JSONValueDecoder().decode(Pose.self, from: .null)
            return "decoded"
        } catch {
            return "\(error)"
        }
    }

    // MARK: - The table's count

    @Test("the count of requests waiting for a typed reply follows every way out of the table")
    func waitingCount() throws {
        let counts = TypedReplies()
        var table = PendingRequests(typedReplies: counts)
        let loop = EmbeddedEventLoop()
        func typed(_ number: Int, timeout: TimeAmount? = nil) {
            var entry = PendingRequests.Entry(
                requestedValue: "v", args: [], kwargs: [:], completion: .typed(loop.makePromise()), timeout: timeout, written: true)
            entry.deadline = timeout.map { .uptimeNanoseconds(0) + $0 }
            table.add(number: number, entry: entry)
        }
        func plain(_ number: Int) {
            table.add(number: number, entry: .init(requestedValue: "v", args: [], kwargs: [:], completion: .callback { _ in }, timeout: nil, written: true))
        }
        typed(1)
        typed(2, timeout: .seconds(1))
        typed(3)
        typed(4)
        plain(5)
        #expect(counts.waiting == 4)
        #expect(table.wantsReplyText(number: 1))
        #expect(!table.wantsReplyText(number: 5))
        // Every entry taken out is failed at the end (a promise must not be dropped).
        var out: [PendingRequests.Entry] = []
        // A response naming another value leaves the entry waiting.
        _ = table.receiveResponse(id: .string(RequestID.format(1)), requestedValue: "other")
        #expect(counts.waiting == 4)
        if case .deliver(let entry) = table.receiveResponse(id: .string(RequestID.format(1)), requestedValue: "v") { out.append(entry) }
        #expect(counts.waiting == 3)
        out += table.expired(now: .uptimeNanoseconds(0) + .seconds(2)).map(\.entry)
        #expect(counts.waiting == 2)
        out += [table.remove(number: 3), table.remove(number: 5)].compactMap { $0 }
        #expect(counts.waiting == 1)
        out += table.linkDown(keepForResend: true)
        #expect(counts.waiting == 1)
        out += table.linkDown(keepForResend: false)
        #expect(counts.waiting == 0)
        typed(6)
        out += table.removeAll()
        #expect(counts.waiting == 0)
        #expect(out.count == 6)
        for entry in out { entry.finish(.failure(.closed)) }
        try loop.syncShutdownGracefully()
    }
}
