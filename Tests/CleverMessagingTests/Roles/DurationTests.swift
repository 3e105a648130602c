import NIOCore
import Testing

@testable import CleverMessaging

/// Durations in log lines and messages read as a person would write them.
@Suite("Roles: durations")
struct DurationTests {
    @Test("seconds with two decimals, milliseconds below a second, minutes past two", arguments: [
        (Duration.nanoseconds(1_981_619_889), "1.98 s"),
        (.seconds(2), "2 s"),
        (.milliseconds(250), "250 ms"),
        (.microseconds(1500), "1.5 ms"),
        (.zero, "0 s"),
        (.seconds(125), "2 min 5 s"),
    ])
    func describe(_ duration: Duration, _ text: String) {
        #expect(LogFormat.duration(duration) == text)
    }

    @Test("a Duration becomes the same TimeAmount, saturating instead of overflowing")
    func timeAmount() {
        #expect(Duration.milliseconds(1500).timeAmount == .milliseconds(1500))
        #expect(Duration.seconds(Int64.max).timeAmount == .nanoseconds(.max))
        #expect(TimeAmount.seconds(3).duration == .seconds(3))
        #expect(Duration?.none.timeAmount == nil)
    }

    @Test("the reconnect policy's delays grow in Duration, capped, and never overflow")
    func reconnectDelays() {
        let policy = ReconnectPolicy(initialDelay: .seconds(1), backoffMultiplier: 2, maximumDelay: .seconds(30))
        #expect(policy.delay(beforeAttempt: 1) == .seconds(1))
        #expect(policy.delay(beforeAttempt: 3) == .seconds(4))
        #expect(policy.delay(beforeAttempt: 500) == .seconds(30))
        #expect(ReconnectPolicy.reference.delay(beforeAttempt: 7) == .seconds(2))
    }
}
