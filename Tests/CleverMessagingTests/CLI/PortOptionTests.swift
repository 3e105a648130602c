import Testing

/// Ports given on the command line are checked before anything listens or connects.
@Suite("clever-msg: port options", .timeLimit(.minutes(1)))
struct PortOptionTests {
    @Test("serve --port 99999 fails with a clear message instead of listening elsewhere")
    func servePortOutOfRange() async throws {
        let result = try await CleverMsgBinary.run(["serve", "--port", "99999"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("invalid port 99999: a port must be in 0...65535"), "\(result.stderr)")
        #expect(result.text.isEmpty)
    }

    @Test("drone --server with port 0 or 70000, and --discover 0, fail with a clear message", arguments: [
        ["drone", "--server", "127.0.0.1:0"],
        ["drone", "--server", "127.0.0.1:70000"],
        ["drone", "--discover", "0"],
        ["swarm", "--server", "127.0.0.1:65536"],
    ])
    func dronePorts(_ arguments: [String]) async throws {
        let result = try await CleverMsgBinary.run(arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains("a port must be in 1...65535"), "\(result.stderr)")
    }
}
