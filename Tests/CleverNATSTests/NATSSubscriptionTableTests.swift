import NIOCore
import Testing

@testable import CleverNATS

@Suite struct NATSSubscriptionTableTests {
    @Test func maximumMessagesUnsubscribeByThemselves() {
        var table = NATSSubscriptionTable<String>()
        let sid = table.add(subject: "a", queueGroup: "q", sink: "A")
        #expect(table.unsubscribe(sid: sid, after: 2) == nil)
        #expect(table.replay == [.init(sid: sid, subject: "a", queueGroup: "q", remaining: 2)])
        guard case .deliver("A", last: false) = table.deliver(sid: sid) else { Issue.record("first"); return }
        #expect(table.replay == [.init(sid: sid, subject: "a", queueGroup: "q", remaining: 1)])
        guard case .deliver("A", last: true) = table.deliver(sid: sid) else { Issue.record("last"); return }
        guard case .unknown = table.deliver(sid: sid) else { Issue.record("after"); return }
        #expect(table.count == 0)
    }

    @Test func aMaximumAlreadyReachedEndsNow() {
        var table = NATSSubscriptionTable<Int>()
        let sid = table.add(subject: "a", queueGroup: nil, sink: 1)
        _ = table.deliver(sid: sid)
        _ = table.deliver(sid: sid)
        #expect(table.unsubscribe(sid: sid, after: 2)?.sink == 1)
        #expect(table.count == 0)
        let other = table.add(subject: "b", queueGroup: nil, sink: 2)
        #expect(other != sid)
        #expect(table.unsubscribe(sid: other, after: nil)?.subject == "b")
    }
}
