import Testing

/// `clever-msg demo` — the README's main command — runs to completion on loopback.
@Suite("CLI: demo", .timeLimit(.minutes(2)))
struct DemoTests {
    @Test("the demo identifies every drone, rebinds one by discovery, pushes a file and answers a resent request")
    func demo() async throws {
        let result = try await CleverMsgBinary.run(["demo"])
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "stdout: \(text)")
        #expect(text.contains("3 drones connected and identified"))
        #expect(text.contains("rebound to 127.0.0.1:"))
        #expect(text.contains("acknowledged"))
        #expect(text.contains("on disk: identical"))
        #expect(text.contains("resent request was answered"))
        #expect(text.hasSuffix("done\n"))
    }
}
