import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import clever_msg

/// `serve --metrics`'s HTTP endpoint, its whole pipeline on an `EmbeddedChannel`.
@Suite("Metrics: the /metrics HTTP endpoint")
struct MetricsEndpointTests {
    static let exposition = "# TYPE clever_links_open gauge\nclever_links_open{role=\"server\"} 3.0\n"

    /// Sends `request` to a fresh endpoint pipeline; returns what it answered and whether it closed the link.
    static func exchange(_ request: String) throws -> (response: String, closed: Bool) {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9464)).wait()
        try MetricsEndpoint.configure(channel) { Array(Self.exposition.utf8) }
        var input = channel.allocator.buffer(capacity: request.utf8.count)
        input.writeString(request)
        do {
            try channel.writeInbound(input)
        } catch {
            // A bad request makes the HTTP decoder throw after it answered 400.
        }
        var response = ""
        while var part = try channel.readOutbound(as: ByteBuffer.self) {
            response += part.readString(length: part.readableBytes) ?? ""
        }
        let closed = !channel.isActive
        _ = try? channel.finish()
        return (response, closed)
    }

    @Test("GET /metrics: 200, the Prometheus text and its content type; the link closes")
    func get() throws {
        let (response, closed) = try Self.exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response)")
        #expect(response.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        #expect(response.contains("Content-Length: \(Self.exposition.utf8.count)\r\n"))
        #expect(response.hasSuffix("\r\n\r\n" + Self.exposition))
        #expect(closed)
    }

    @Test("HEAD /metrics and a query string: answered, HEAD without a body")
    func headAndQuery() throws {
        let (head, _) = try Self.exchange("HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(head)")
        #expect(head.hasSuffix("\r\n\r\n"))
        let (query, _) = try Self.exchange("GET /metrics?name=x HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(query.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(query)")
    }

    @Test("another path: 404; another method: 405; both close the link")
    func wrongPathAndMethod() throws {
        let (notFound, closed) = try Self.exchange("GET /other HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(notFound.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(notFound)")
        #expect(!notFound.contains("clever_links_open"))
        #expect(closed)
        let (post, postClosed) = try Self.exchange("POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}")
        #expect(post.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"), "\(post)")
        #expect(post.contains("Allow: GET, HEAD\r\n"))
        #expect(postClosed)
    }

    @Test("a malformed request: 400 and closed")
    func malformed() throws {
        let (response, closed) = try Self.exchange("NOT HTTP AT ALL\r\n\r\n")
        #expect(response.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(response)")
        #expect(closed)
    }

    @Test("an oversized request (a huge header, or a body on GET): refused and closed")
    func oversized() throws {
        let header = String(repeating: "a", count: 20_000)
        let (huge, closed) = try Self.exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Big: \(header)\r\n\r\n")
        #expect(huge.hasPrefix("HTTP/1.1 431 "), "\(huge.prefix(200))")
        #expect(!huge.contains("clever_links_open"))
        #expect(closed)
        let body = String(repeating: "b", count: 4000)
        let (withBody, bodyClosed) = try Self.exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4000\r\n\r\n\(body)")
        #expect(withBody.hasPrefix("HTTP/1.1 413 Payload Too Large\r\n"), "\(withBody.prefix(200))")
        #expect(bodyClosed)
    }

    @Test("--metrics parses HOST[:PORT], port 0 included")
    func addresses() throws {
        for (text, host, port) in [
            ("127.0.0.1:0", "127.0.0.1", 0), ("127.0.0.1:9100", "127.0.0.1", 9100),
            ("127.0.0.1", "127.0.0.1", MetricsEndpoint.defaultPort), ("[::1]:0", "::1", 0),
        ] {
            let parsed = try MetricsEndpoint.parseAddress(text)
            #expect(parsed.host == host && parsed.port == port, "\(text)")
        }
        #expect(throws: (any Error).self) { try MetricsEndpoint.parseAddress(":9100") }
        #expect(throws: (any Error).self) { try MetricsEndpoint.parseAddress("127.0.0.1:http") }
    }
}
