import NIOConcurrencyHelpers

/// The subscribers of an event stream (a role's events, a discovery listener's announcements): each ``subscribe(buffering:)`` gets its own
/// stream of the events published from then on; ``finish()`` ends them all.
final class EventSubscribers<Event: Sendable>: Sendable {
    private let subscribers = NIOLockedValueBox<(next: Int, all: [Int: AsyncStream<Event>.Continuation], finished: Bool)>((0, [:], false))

    /// A new stream of the events published from now on (ended at once when the role has finished).
    func subscribe(buffering limit: Int = 100_000) -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(limit))
        let key = subscribers.withLockedValue { s -> Int? in
            guard !s.finished else { return nil }
            s.next += 1
            s.all[s.next] = continuation
            return s.next
        }
        guard let key else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLockedValue { $0.all.removeValue(forKey: key) }
        }
        return stream
    }

    /// Hands `event` to every subscriber (yielding never waits).
    func publish(_ event: Event) {
        subscribers.withLockedValue { s in
            for subscriber in s.all.values { subscriber.yield(event) }
        }
    }

    /// Ends every stream; later subscribers get an ended stream.
    func finish() {
        let all = subscribers.withLockedValue { s in
            defer {
                s.all = [:]
                s.finished = true
            }
            return Array(s.all.values)
        }
        for subscriber in all { subscriber.finish() }
    }
}
