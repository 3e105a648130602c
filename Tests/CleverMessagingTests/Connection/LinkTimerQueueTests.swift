import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// One timer per event loop for the deadlines of all its links.
@Suite("LinkTimerQueue")
struct LinkTimerQueueTests {
    /// Records its wake-ups.
    final class Recorder: LinkWakeTarget {
        let name: String
        let log: NIOLockedValueBox<[(String, NIODeadline)]>

        init(_ name: String, log: NIOLockedValueBox<[(String, NIODeadline)]>) {
            self.name = name
            self.log = log
        }

        func wake(now: NIODeadline) {
            log.withLockedValue { $0.append((name, now)) }
        }
    }

    @Test("targets are woken at their deadlines, in order, through one queue")
    func wakesInOrder() {
        let loop = EmbeddedEventLoop()
        let queue = LinkTimerQueue(eventLoop: loop)
        let log = NIOLockedValueBox<[(String, NIODeadline)]>([])
        let start = loop.now
        let a = Recorder("a", log: log)
        let b = Recorder("b", log: log)
        queue.schedule(a, at: start + .milliseconds(200), kind: .liveness)
        queue.schedule(b, at: start + .milliseconds(50), kind: .acknowledgement)
        queue.schedule(a, at: start + .milliseconds(100), kind: .requests)
        #expect(queue.count == 3)
        loop.advanceTime(by: .milliseconds(49))
        #expect(log.withLockedValue { $0.isEmpty })
        loop.advanceTime(by: .milliseconds(1))
        #expect(log.withLockedValue { $0.map(\.0) } == ["b"])
        loop.advanceTime(by: .milliseconds(150))
        #expect(log.withLockedValue { $0.map(\.0) } == ["b", "a", "a"])
        #expect(log.withLockedValue { $0.map(\.1) } == [50, 100, 200].map { start + .milliseconds($0) })
        #expect(queue.count == 0)
    }

    @Test("a target woken may ask again from its wake-up, and is woken again")
    func asksAgainWhenWoken() {
        let loop = EmbeddedEventLoop()
        let queue = LinkTimerQueue(eventLoop: loop)
        let count = NIOLockedValueBox(0)
        final class Again: LinkWakeTarget {
            let queue: LinkTimerQueue
            let count: NIOLockedValueBox<Int>
            init(queue: LinkTimerQueue, count: NIOLockedValueBox<Int>) {
                self.queue = queue
                self.count = count
            }
            func wake(now: NIODeadline) {
                if count.withLockedValue({ $0 += 1; return $0 }) < 3 {
                    queue.schedule(self, at: now + .milliseconds(10), kind: .liveness)
                }
            }
        }
        let target = Again(queue: queue, count: count)
        queue.schedule(target, at: loop.now + .milliseconds(10), kind: .liveness)
        loop.advanceTime(by: .milliseconds(100))
        #expect(count.withLockedValue { $0 } == 3)
        #expect(queue.count == 0)
    }

    @Test("nearer deadlines overtaking farther ones leave few NIO callbacks outstanding, however many wake-ups")
    func fewCallbacks() {
        let loop = EmbeddedEventLoop()
        let queue = LinkTimerQueue(eventLoop: loop)
        let log = NIOLockedValueBox<[(String, NIODeadline)]>([])
        let target = Recorder("t", log: log)
        // Each round: a far deadline (a ping interval), then a near one (an acknowledgement) overtaking it.
        var most = 0
        for round in 0..<1_000 {
            queue.schedule(target, at: loop.now + .seconds(2), kind: .liveness)
            queue.schedule(target, at: loop.now + .milliseconds(50), kind: .acknowledgement)
            most = max(most, queue.callbacksScheduled)
            loop.advanceTime(by: .milliseconds(round % 3 == 0 ? 60 : 10))
        }
        #expect(most <= 3, "outstanding callbacks: \(most)")
        loop.advanceTime(by: .seconds(3))
        #expect(queue.count == 0)
        #expect(queue.callbacksScheduled == 0)
        #expect(log.withLockedValue { $0.count } == 2_000)
    }
}
