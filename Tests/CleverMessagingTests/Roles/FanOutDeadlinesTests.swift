import CleverMessaging
import NIOCore
import Testing

/// ``FanOutDeadlines``: the deadlines of a fan-out's requests on one loop, swept by one timer.
@Suite("Fan-out deadlines")
struct FanOutDeadlinesTests {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("runs are due at their deadline, not before; the next deadline is the earliest waiting")
    func dueAtDeadline() {
        var deadlines = FanOutDeadlines()
        #expect(deadlines.isEmpty)
        #expect(deadlines.next == nil)
        deadlines.add(0..<128, deadline: t0 + .seconds(5))
        deadlines.add(128..<200, deadline: t0 + .seconds(5) + .milliseconds(3))
        #expect(deadlines.next == t0 + .seconds(5))
        #expect(deadlines.due(now: t0 + .seconds(4)).isEmpty)
        #expect(deadlines.due(now: t0 + .seconds(5)) == [0..<128])
        #expect(deadlines.next == t0 + .seconds(5) + .milliseconds(3))
        #expect(deadlines.due(now: t0 + .seconds(6)) == [128..<200])
        #expect(deadlines.isEmpty)
        #expect(deadlines.next == nil)
    }

    @Test("runs with different timeouts: an earlier deadline added later comes first")
    func mixedTimeouts() {
        var deadlines = FanOutDeadlines()
        deadlines.add(0..<10, deadline: t0 + .seconds(10))
        deadlines.add(10..<20, deadline: t0 + .seconds(1))
        deadlines.add(20..<20, deadline: t0)
        #expect(deadlines.next == t0 + .seconds(1))
        #expect(deadlines.due(now: t0 + .seconds(2)) == [10..<20])
        #expect(deadlines.next == t0 + .seconds(10))
        #expect(deadlines.due(now: t0 + .seconds(20)) == [0..<10])
    }

    @Test("once every result is in, nothing waits")
    func removeAll() {
        var deadlines = FanOutDeadlines()
        deadlines.add(0..<3, deadline: t0)
        deadlines.removeAll()
        #expect(deadlines.isEmpty)
        #expect(deadlines.due(now: t0 + .seconds(1)).isEmpty)
    }
}
