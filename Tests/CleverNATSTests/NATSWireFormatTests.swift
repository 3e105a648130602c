import Foundation
import NIOCore
import Testing

@testable import CleverNATS

@Suite struct NATSWireFormatTests {
    @Test func publishAndHeaders() throws {
        var buffer = ByteBuffer()
        NATSCommand.writePublish(subject: "a", replyTo: "r", headerBlock: nil, payload: ByteBuffer(string: "hi"), into: &buffer)
        #expect(String(buffer: buffer) == "PUB a r 2\r\nhi\r\n")
        var headers = NATSHeaders()
        headers.add("1", for: "X-Id")
        let block = try headers.encoded()
        buffer.clear()
        NATSCommand.writePublish(subject: "a", replyTo: nil, headerBlock: block, payload: ByteBuffer(string: "hi"), into: &buffer)
        #expect(String(buffer: buffer) == "HPUB a 21 23\r\nNATS/1.0\r\nX-Id: 1\r\n\r\nhi\r\n")
        let parsed = try NATSHeaders.parse(Array(block.utf8))
        #expect(parsed["x-id"] == "1")
        headers.add("bad\r\nvalue", for: "Y")
        #expect(throws: NATSError.self) { try headers.encoded() }
        #expect(throws: NATSError.self) { try NATSCommand.validate(subject: "a b") }
        #expect(throws: NATSError.self) { try NATSCommand.validate(subject: "") }
    }

    @Test func serverAddresses() throws {
        let plain = try NATSServerAddress(parsing: "nats://127.0.0.1:4333")
        #expect(plain == NATSServerAddress(host: "127.0.0.1", port: 4333))
        let secure = try NATSServerAddress(parsing: "tls://joe:pw@example.com")
        #expect(secure.tls && secure.host == "example.com" && secure.port == 4222)
        #expect(secure.user == "joe" && secure.password == "pw")
        #expect(try NATSServerAddress(parsing: "[::1]:5000").host == "::1")
        #expect(try NATSServerAddress(parsing: "127.0.0.1:4223").port == 4223)
        for bad in ["http://x:1", "nats://:4222", "x:0", "x:y", "[::1"] {
            #expect(throws: NATSError.self, "\(bad)") { _ = try NATSServerAddress(parsing: bad) }
        }
    }

    @Test func errorsHaveStableCodesAndAreCodable() throws {
        let error = NATSError.reconnectBufferFull(buffered: 10, limit: 20)
        #expect(error.code.rawValue == "nats_reconnect_buffer_full")
        let data = try JSONEncoder().encode(error)
        #expect(try JSONDecoder().decode(NATSError.self, from: data) == error)
    }
}
