import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import CleverMessaging

/// The table of a role's event streams: an ended stream leaves it at the next
/// event, and a reader cancelled while events are yielded to it never blocks
/// the publisher.
@Suite("Roles: event subscribers", .timeLimit(.minutes(1)))
struct EventSubscribersTests {
    @Test func aStreamThatEndedIsDroppedAtTheNextEvent() async {
        let subscribers = EventSubscribers<Int>()
        let stream = subscribers.subscribe()
        let reader = Task {
            var seen: [Int] = []
            for await event in stream { seen.append(event) }
            return seen
        }
        subscribers.publish(1)
        reader.cancel()
        _ = await reader.value
        // Still listed (no lock is taken when a stream ends) until the next event finds it ended.
        #expect(subscribers.hasSubscribers)
        subscribers.publish(2)
        #expect(!subscribers.hasSubscribers)
    }

    @Test func eventsStillReachTheStreamsThatRemain() async {
        let subscribers = EventSubscribers<Int>()
        let kept = subscribers.subscribe()
        let ended = subscribers.subscribe()
        let reader = Task { for await _ in ended {} }
        reader.cancel()
        await reader.value
        for event in 1...3 { subscribers.publish(event) }
        subscribers.finish()
        var seen: [Int] = []
        for await event in kept { seen.append(event) }
        #expect(seen == [1, 2, 3])
    }

    /// A reader's cancellation ends its stream while a publisher on another
    /// thread yields to it: neither waits for the other.
    @Test func readersCancelledWhileEventsAreYieldedNeverBlockThePublisher() async {
        let subscribers = EventSubscribers<Int>()
        let publishing = Thread.publishing(to: subscribers)
        for _ in 0..<300 {
            let stream = subscribers.subscribe(buffering: 4)
            let reader = Task { for await _ in stream {} }
            await Task.yield()
            reader.cancel()
            await reader.value
        }
        publishing.stop()
        subscribers.publish(0)
        #expect(!subscribers.hasSubscribers)
    }
}

/// A thread that publishes events as fast as it can until stopped.
private final class PublishingThread: Sendable {
    private let stopped = NIOLockedValueBox(false)

    init(_ subscribers: EventSubscribers<Int>) {
        let stopped = self.stopped
        Thread.detachNewThread {
            var event = 0
            while !stopped.withLockedValue({ $0 }) {
                event += 1
                subscribers.publish(event)
            }
        }
    }

    func stop() { stopped.withLockedValue { $0 = true } }
}

extension Thread {
    fileprivate static func publishing(to subscribers: EventSubscribers<Int>) -> PublishingThread {
        PublishingThread(subscribers)
    }
}
