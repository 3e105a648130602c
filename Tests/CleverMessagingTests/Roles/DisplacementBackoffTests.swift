import Testing

@testable import CleverMessaging

/// The displaced-link backoff's decisions, without sockets or clocks.
@Suite("Client: displacement backoff (pure)")
struct DisplacementBackoffTests {
    static let policy = ReconnectPolicy(initialDelay: .seconds(2), maximumDelay: .seconds(30), jitter: 0.5)

    @Test("a first drop is followed as before: at once after a long link, after the rest of the first delay after a short one")
    func firstDrop() {
        var backoff = DisplacementBackoff(policy: Self.policy)
        #expect(backoff.linkEnded(.byPeer, lived: .seconds(10)) == .zero)
        var short = DisplacementBackoff(policy: Self.policy)
        #expect(short.linkEnded(.byPeer, lived: .milliseconds(500)) == .milliseconds(1500))
    }

    @Test("links the peer ends in a row: 2, 4, 8, 16 s, then the 30 s maximum")
    func growsToTheMaximum() {
        var backoff = DisplacementBackoff(policy: Self.policy)
        var delays: [Duration] = []
        for _ in 0..<7 { delays.append(backoff.linkEnded(.byPeer, lived: .seconds(3))) }
        #expect(delays == [.zero, .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30), .seconds(30)])
        #expect(backoff.displacements == 7)
    }

    @Test("the second displacement waits the first delay doubled, never less than the rest of the first delay")
    func secondDisplacement() {
        var backoff = DisplacementBackoff(policy: ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(1)))
        #expect(backoff.linkEnded(.byPeer, lived: .milliseconds(30)) == .milliseconds(70))
        #expect(backoff.linkEnded(.byPeer, lived: .milliseconds(30)) == .milliseconds(200))
        #expect(backoff.linkEnded(.byPeer, lived: .milliseconds(30)) == .milliseconds(400))
    }

    @Test("a link that held for the settling time ends the run")
    func settledLinkResets() {
        var backoff = DisplacementBackoff(policy: Self.policy, settledAfter: .seconds(60))
        for _ in 0..<4 { _ = backoff.linkEnded(.byPeer, lived: .seconds(5)) }
        #expect(backoff.displacements == 4)
        #expect(backoff.linkEnded(.byPeer, lived: .seconds(61)) == .zero)
        #expect(backoff.displacements == 1)
        #expect(backoff.linkEnded(.byPeer, lived: .seconds(5)) == .seconds(4))
    }

    @Test("a link this side dropped ends the run and is followed as any drop")
    func droppedHereResets() {
        var backoff = DisplacementBackoff(policy: Self.policy)
        for _ in 0..<3 { _ = backoff.linkEnded(.byPeer, lived: .seconds(5)) }
        #expect(backoff.linkEnded(.byThisSide, lived: .seconds(5)) == .zero)
        #expect(backoff.displacements == 0)
        #expect(backoff.linkEnded(.byThisSide, lived: .seconds(1)) == .seconds(1))
        #expect(backoff.linkEnded(.byPeer, lived: .seconds(5)) == .zero)
    }

    @Test("jitter scales the delay by the draw, within the policy's fraction")
    func jitter() {
        var low = DisplacementBackoff(policy: Self.policy)
        var high = DisplacementBackoff(policy: Self.policy)
        _ = low.linkEnded(.byPeer, lived: .seconds(5))
        _ = high.linkEnded(.byPeer, lived: .seconds(5))
        #expect(low.linkEnded(.byPeer, lived: .seconds(5), draw: -1) == .seconds(2))
        #expect(high.linkEnded(.byPeer, lived: .seconds(5), draw: 1) == .seconds(6))
    }

    @Test("the default settling time: twice the maximum delay, at least a minute")
    func defaultSettling() {
        #expect(DisplacementBackoff(policy: Self.policy).settledAfter == .seconds(60))
        #expect(DisplacementBackoff(policy: ReconnectPolicy(maximumDelay: .seconds(45))).settledAfter == .seconds(90))
    }

    @Test("thousands of displacements: the delay stays at the maximum (no overflow)")
    func noOverflow() {
        var backoff = DisplacementBackoff(policy: Self.policy)
        var last = Duration.zero
        for _ in 0..<5000 { last = backoff.linkEnded(.byPeer, lived: .seconds(1)) }
        #expect(last == .seconds(30))
    }
}
