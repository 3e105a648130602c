import Testing

@testable import CleverMessaging

/// The refused-link backoff's decisions, without sockets or clocks.
@Suite("Client: refusal backoff (pure)")
struct RefusalBackoffTests {
    /// Whether `a` and `b` are within a microsecond (the delays are computed in seconds as a `Double`).
    static func close(_ a: Duration, _ b: Duration) -> Bool {
        (a > b ? a - b : b - a) < .microseconds(1)
    }

    @Test("refusals in a row: the first delay, doubled each time, up to the maximum")
    func growsToTheMaximum() {
        var backoff = RefusalBackoff(policy: ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(1)))
        var delays: [Duration] = []
        for _ in 0..<6 { delays.append(backoff.refused()) }
        let expected: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)]
        #expect(zip(delays, expected).allSatisfy { Self.close($0.0, $0.1) }, "\(delays)")
        #expect(backoff.refusals == 6)
    }

    @Test("the draw scales a tenth of the delay either way, and is clamped to -1...1")
    func jitter() {
        let policy = ReconnectPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(30))
        let cases: [(draw: Double, delay: Duration)] = [
            (-1, .milliseconds(900)), (1, .milliseconds(1100)), (0.5, .milliseconds(1050)), (-7, .milliseconds(900)), (7, .milliseconds(1100)),
        ]
        for (draw, expected) in cases {
            var backoff = RefusalBackoff(policy: policy)
            let delay = backoff.refused(draw: draw)
            #expect(Self.close(delay, expected), "draw \(draw): \(delay)")
        }
    }

    @Test("a link the server accepted ends the run: the next refusal waits the first delay again")
    func acceptedResets() {
        var backoff = RefusalBackoff(policy: ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(1)))
        for _ in 0..<3 { _ = backoff.refused() }
        backoff.accepted()
        #expect(backoff.refusals == 0)
        #expect(Self.close(backoff.refused(), .milliseconds(100)))
    }

    @Test("a maximum below the first delay: every delay is the first")
    func maximumBelowFirst() {
        var backoff = RefusalBackoff(policy: ReconnectPolicy(initialDelay: .seconds(2), maximumDelay: .seconds(1)))
        for _ in 0..<3 { #expect(Self.close(backoff.refused(), .seconds(2))) }
    }

    @Test("thousands of refusals do not overflow; a zero first delay waits nothing")
    func bounds() {
        var backoff = RefusalBackoff(policy: ReconnectPolicy(initialDelay: .seconds(2), maximumDelay: .seconds(30)))
        for _ in 0..<5_000 { _ = backoff.refused(draw: 1) }
        #expect(Self.close(backoff.refused(draw: 1), .seconds(33)))
        var zero = RefusalBackoff(policy: ReconnectPolicy(initialDelay: .zero, maximumDelay: .zero))
        #expect(zero.refused() == .zero)
    }
}
