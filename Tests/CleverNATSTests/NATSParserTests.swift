import CleverTestSupport
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverNATS

@Suite struct NATSParserTests {
    static let info = #"INFO {"server_id":"S1","version":"2.9.10","max_payload":64,"headers":true,"connect_urls":["127.0.0.1:4223"]}"#

    /// Parses all of `bytes`, fed in pieces of `chunk` bytes.
    func parseAll(_ text: String, chunk: Int = .max, limits: NATSParserLimits = .init()) throws -> [NATSServerOperation] {
        var parser = NATSParser(limits: limits)
        var buffer = ByteBuffer()
        var operations: [NATSServerOperation] = []
        var input = ByteBuffer(string: text)
        while input.readableBytes > 0 {
            var piece = input.readSlice(length: min(chunk, input.readableBytes))!
            buffer.writeBuffer(&piece)
            while let operation = try parser.next(&buffer) { operations.append(operation) }
        }
        #expect(buffer.readableBytes == 0)
        return operations
    }

    @Test func everyOperationWholeAndByteByByte() throws {
        let text =
            Self.info + "\r\n" + "MSG a.b 7 5\r\nhello\r\n" + "msg a.b 7 reply.x 0\r\n\r\n"
            + "HMSG h 2 inbox.1 24 26\r\nNATS/1.0\r\nKey: Value\r\n\r\nhi\r\n"
            + "HMSG h 2 16 16\r\nNATS/1.0 503\r\n\r\n\r\n" + "PING\r\nPONG\r\n+OK\r\n-ERR 'Unknown Protocol Operation'\r\n"
        for chunk in [Int.max, 1, 3, 7] {
            let operations = try parseAll(text, chunk: chunk)
            #expect(operations.count == 9)
            guard case .info(let info) = operations[0] else { Issue.record("no INFO"); return }
            #expect(info.serverID == "S1" && info.maxPayload == 64 && info.connectURLs == ["127.0.0.1:4223"])
            #expect(operations[1] == .message(sid: 7, NATSMessage(subject: "a.b", payload: ByteBuffer(string: "hello"))))
            #expect(operations[2] == .message(sid: 7, NATSMessage(subject: "a.b", replyTo: "reply.x", payload: ByteBuffer())))
            guard case .message(2, let withHeaders) = operations[3] else { Issue.record("no HMSG"); return }
            #expect(withHeaders.replyTo == "inbox.1" && withHeaders.headers?["key"] == "Value" && withHeaders.string == "hi")
            guard case .message(2, let status) = operations[4] else { Issue.record("no status HMSG"); return }
            #expect(status.headers?.status == 503 && status.payload.readableBytes == 0)
            #expect(Array(operations[5...]) == [.ping, .pong, .ok, .error("Unknown Protocol Operation")])
        }
    }

    @Test func infoSetsThePayloadLimit() throws {
        #expect(throws: NATSError.payloadTooLarge(size: 65, limit: 64)) {
            _ = try parseAll(Self.info + "\r\nMSG a 1 65\r\n")
        }
    }

    @Test(arguments: [
        ("MSG a 1 5\r\nhel\r\nPING\r\n", NATSError.Code.protocolViolation),  // size says more than sent: CRLF check fails
        ("MSG a 1 2\r\nhello\r\n", .protocolViolation),  // size says less
        ("PING\n", .protocolViolation),  // no CR
        ("FOO bar\r\n", .protocolViolation),  // unknown verb
        ("\r\n", .protocolViolation),  // empty line
        ("PING extra\r\n", .protocolViolation),
        ("MSG a\r\n", .protocolViolation),  // too few arguments
        ("MSG a b 1\r\nx\r\n", .protocolViolation),  // sid not a number
        ("MSG a 1 -1\r\n", .protocolViolation),
        ("MSG a 1 x\r\n", .protocolViolation),
        ("MSG a 1 99999999999999999999999\r\n", .payloadTooLarge),
        ("MSG a 1 2000000\r\n", .payloadTooLarge),  // checked before any payload byte
        ("HMSG a 1 10 5\r\n", .protocolViolation),  // header size passes total
        ("HMSG a 1 4 6\r\nXXXX12\r\n", .protocolViolation),  // not a NATS/1.0 header block
        ("INFO {not json\r\n", .protocolViolation),
    ])
    func malformedInputIsATypedError(input: String, code: NATSError.Code) {
        do {
            _ = try parseAll(input)
            Issue.record("\(input.debugDescription) parsed")
        } catch let error as NATSError {
            #expect(error.code == code, "\(input.debugDescription): \(error)")
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func aHugeLineFailsBeforeItsEnd() {
        var parser = NATSParser(limits: NATSParserLimits(maximumLineLength: 100))
        var buffer = ByteBuffer(string: "INFO " + String(repeating: "x", count: 90))
        #expect((try? parser.next(&buffer)) == .some(nil))
        buffer.writeString(String(repeating: "x", count: 20))
        #expect(throws: NATSError.lineTooLong(limit: 100)) { _ = try parser.next(&buffer) }
    }

    @Test func decoderInAnEmbeddedChannel() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(NATSDecoder()))
        try channel.writeInbound(ByteBuffer(string: "PING\r\nMSG x 3 2\r\nh"))
        #expect(try channel.readInbound(as: NATSServerOperation.self) == .ping)
        #expect(try channel.readInbound(as: NATSServerOperation.self) == nil)
        try channel.writeInbound(ByteBuffer(string: "i\r\n"))
        #expect(
            try channel.readInbound(as: NATSServerOperation.self)
                == .message(sid: 3, NATSMessage(subject: "x", payload: ByteBuffer(string: "hi"))))
        #expect(throws: NATSError.self) { try channel.writeInbound(ByteBuffer(string: "BOGUS\r\n")) }
        _ = try? channel.finish()
    }

    @Test func leftoversAtTheEndAreAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(NATSDecoder()))
        try channel.writeInbound(ByteBuffer(string: "MSG x 3 10\r\nabc"))
        #expect(throws: NATSError.self) { _ = try channel.finish() }
    }

    /// Random bytes and mutations of a valid stream never crash the parser, and
    /// never leave more than its line limit buffered without an error.
    @Test func seededFuzzNeverCrashes() {
        var random = SeededRNG(seed: 0x4E41_5453)
        let valid = Array(
            (Self.info + "\r\nMSG a.b 7 5\r\nhello\r\nHMSG h 2 inbox.1 24 26\r\nNATS/1.0\r\nKey: Value\r\n\r\nhi\r\nPING\r\n")
                .utf8)
        let alphabet = Array("MSGHINFOPJ+-ERK 0123456789\r\n\t.{}\"".utf8)
        let limits = NATSParserLimits(maximumLineLength: 256, maximumPayload: 512)
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = valid
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    let index = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 3 {
                    case 0: bytes[index] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                    case 1: bytes.remove(at: index)
                    default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: index)
                    }
                }
            } else {
                bytes = (0..<Int(random.next() % 400)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            }
            var parser = NATSParser(limits: limits)
            var buffer = ByteBuffer()
            var input = bytes[...]
            loop: while !input.isEmpty {
                let take = 1 + Int(random.next() % 40)
                buffer.writeBytes(input.prefix(take))
                input = input.dropFirst(take)
                do {
                    while try parser.next(&buffer) != nil {}
                } catch {
                    _ = error.code  // a typed NATSError: the parser throws nothing else
                    break loop
                }
                #expect(buffer.readableBytes <= limits.maximumLineLength + 2 + limits.maximumPayload + 2)
            }
        }
    }
}
