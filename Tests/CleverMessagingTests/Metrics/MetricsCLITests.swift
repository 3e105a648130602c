import CleverMessaging
import Foundation
import Testing

/// `clever-msg serve --metrics` end to end: a swarm connects, `/metrics` is fetched over loopback HTTP.
@Suite("CLI: serve --metrics", .timeLimit(.minutes(2)))
struct MetricsCLITests {
    /// Fetches `url` with Python's urllib: the status, then the content type, then the body.
    static func fetch(_ url: String) async throws -> (status: Int, contentType: String, body: String) {
        let script = """
            import sys, urllib.request, urllib.error
            try:
                r = urllib.request.urlopen(sys.argv[1], timeout=10)
                print(r.status); print(r.headers.get("Content-Type")); sys.stdout.write(r.read().decode())
            except urllib.error.HTTPError as e:
                print(e.code); print(e.headers.get("Content-Type"))
            """
        let output = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, url])
        let text = String(decoding: output.stdout, as: UTF8.self)
        let lines = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        guard output.status == 0, lines.count >= 2, let status = Int(lines[0]) else {
            throw PythonPeer.Failure(description: "fetch failed: \(text) \(String(decoding: output.stderr, as: UTF8.self))")
        }
        return (status, String(lines[1]), lines.count > 2 ? String(lines[2]) : "")
    }

    /// The value of the sample `name{labels}` in Prometheus text, if there is one.
    static func sample(_ name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).split(separator: " ")[0])
        }
        return nil
    }

    @Test("a swarm of 20: /metrics shows 20 open links, their frames and bytes; other paths get 404")
    func swarmIsCounted() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let station = try PythonPeer(executable: binary, arguments: ["serve", "--port", "0", "--json", "--metrics", "127.0.0.1:0"])
        defer { station.terminate() }
        let listening = try await station.waitForLines { $0["listening"] != nil }[0]
        let port = try #require(listening["listening"]?.stringValue?.split(separator: ":").last.flatMap { Int($0) })
        let url = try #require(try await station.waitForLines { $0["metrics"] != nil }[0]["metrics"]?.stringValue)
        #expect(url.hasPrefix("http://127.0.0.1:") && url.hasSuffix("/metrics"), "\(url)")

        let swarm = try PythonPeer(executable: binary, arguments: ["swarm", "--server", "127.0.0.1:\(port)", "--count", "20"])
        defer { swarm.terminate() }
        try await swarm.waitForText { $0.hasPrefix("swarm: 20 drones, 20 connected") }
        _ = try await station.waitFor("connected", count: 20)

        let open = #"clever_links_open{role="server"}"#
        // A link is counted before the station hears of it, so before its drone is printed.
        let scrape = try await Self.fetch(url)
        #expect(scrape.status == 200)
        #expect(scrape.contentType.hasPrefix("text/plain; version=0.0.4"))
        let body = scrape.body
        #expect(Self.sample(open, in: body) == 20, "\(body)")
        #expect(Self.sample(#"clever_links_opened_total{role="server"}"#, in: body) == 20)
        // Each drone was asked its id (a request and its reply) during the handshake.
        #expect((Self.sample(#"clever_frames_received_total{role="server"}"#, in: body) ?? 0) >= 20, "\(body)")
        #expect((Self.sample(#"clever_frames_sent_total{role="server"}"#, in: body) ?? 0) >= 20, "\(body)")
        #expect((Self.sample(#"clever_bytes_received_total{role="server"}"#, in: body) ?? 0) >= 20 * 50, "\(body)")
        #expect((Self.sample(#"clever_bytes_sent_total{role="server"}"#, in: body) ?? 0) >= 20 * 50, "\(body)")
        // The station asked each drone its id: a request each.
        #expect((Self.sample(#"clever_requests_total{role="server"}"#, in: body) ?? 0) >= 20, "\(body)")
        #expect(body.contains("# TYPE clever_request_duration_seconds histogram"), "\(body)")
        // A station has no client links: no client series.
        #expect(!body.contains(#"role="client""#), "\(body)")
        #expect(body.contains("# TYPE clever_frames_received_total counter"), "\(body)")

        #expect(try await Self.fetch(url.replacingOccurrences(of: "/metrics", with: "/other")).status == 404)

        swarm.sendLine("quit")
        #expect(await swarm.waitForOutputEnd())
        _ = try await station.waitFor("disconnected", count: 20)
        station.sendLine("quit")
        #expect(await station.waitForExit(timeout: .seconds(10)))
        #expect(!station.stderr.contains("Fatal error"), "\(station.stderr.suffix(2000))")
    }
}
