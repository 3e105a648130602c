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

    /// A reader's cancellation ends its stream while a publisher yields to it
    /// from another task: neither waits for the other. The publisher sends a
    /// bounded burst per reader, so the test holds no core of a loaded machine.
    @Test func readersCancelledWhileEventsAreYieldedNeverBlockThePublisher() async {
        let subscribers = EventSubscribers<Int>()
        for _ in 0..<300 {
            let stream = subscribers.subscribe(buffering: 4)
            let reader = Task { for await _ in stream {} }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for event in 0..<32 { subscribers.publish(event) } }
                group.addTask { reader.cancel() }
            }
            await reader.value
        }
        subscribers.publish(0)
        #expect(!subscribers.hasSubscribers)
    }
}
