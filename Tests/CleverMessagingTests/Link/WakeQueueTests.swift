import NIOCore
import Testing

@testable import CleverMessaging

/// The wake-ups of many links, served by one timer.
@Suite("WakeQueue")
struct WakeQueueTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func at(_ milliseconds: Int64) -> NIODeadline {
        start + .milliseconds(milliseconds)
    }

    @Test("nothing is due before its deadline; everything due comes out once")
    func dueOnce() {
        var queue = WakeQueue<String>()
        queue.insert("a", at: Self.at(100), kind: .liveness)
        queue.insert("b", at: Self.at(50), kind: .acknowledgement)
        #expect(queue.count == 2)
        #expect(queue.next == Self.at(50))
        #expect(queue.removeDue(now: Self.at(49)).isEmpty)
        #expect(queue.removeDue(now: Self.at(50)) == ["b"])
        #expect(queue.next == Self.at(100))
        #expect(queue.removeDue(now: Self.at(100)) == ["a"])
        #expect(queue.removeDue(now: Self.at(1000)).isEmpty)
        #expect(queue.next == nil)
        #expect(queue.count == 0)
    }

    @Test("within a kind, wake-ups come out in deadline order, equal deadlines in the order asked")
    func orderWithinAKind() {
        var queue = WakeQueue<Int>()
        // Mostly in order (one interval added to the present), sometimes earlier, sometimes equal.
        let deadlines: [Int64] = [10, 20, 20, 5, 30, 25, 30, 40]
        for (item, deadline) in deadlines.enumerated() { queue.insert(item, at: Self.at(deadline), kind: .requests) }
        let expected = deadlines.enumerated().sorted { ($0.element, $0.offset) < ($1.element, $1.offset) }.map(\.offset)
        #expect(queue.removeDue(now: Self.at(40)) == expected)
    }

    @Test("the next wake-up is the earliest of every kind's first")
    func nextAcrossKinds() {
        var queue = WakeQueue<String>()
        queue.insert("handshake", at: Self.at(2000), kind: .handshake)
        queue.insert("liveness", at: Self.at(2500), kind: .liveness)
        queue.insert("ack", at: Self.at(40), kind: .acknowledgement)
        queue.insert("request", at: Self.at(500), kind: .requests)
        var woken: [String] = []
        while let next = queue.next { woken += queue.removeDue(now: next) }
        #expect(woken == ["ack", "request", "handshake", "liveness"])
    }

    @Test("one item may be asked for many times; each wake-up comes")
    func sameItemTwice() {
        var queue = WakeQueue<String>()
        queue.insert("link", at: Self.at(300), kind: .liveness)
        queue.insert("link", at: Self.at(100), kind: .liveness)
        #expect(queue.removeDue(now: Self.at(100)) == ["link"])
        #expect(queue.removeDue(now: Self.at(300)) == ["link"])
    }
}
