import NIOConcurrencyHelpers

/// The subscribers of an event stream (a role's events, a discovery listener's announcements): each ``subscribe(buffering:)`` gets its own
/// stream of the events published from then on, each ``observe(_:)`` a call per event; ``finish()`` ends them all.
struct EventSubscribers<Event: Sendable>: Sendable {
    /// Called with each event, on the publisher's thread.
    typealias Observer = @Sendable (Event) -> Void

    private struct Subscribers {
        var next = 0
        var all: [Int: AsyncStream<Event>.Continuation] = [:]
        var observers: [Observer] = []
        var finished = false
    }

    private let subscribers = NIOLockedValueBox(Subscribers())

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
        // Holds the table (not the role) until the stream ends: its end,
        // by the reader or by ``finish()``, releases the closure.
        continuation.onTermination = { [subscribers] _ in
            _ = subscribers.withLockedValue { $0.all.removeValue(forKey: key) }
        }
        return stream
    }

    /// Calls `observer` with every event published from now on, until ``finish()``
    /// (no stream, no task: for callers that watch thousands of roles).
    func observe(_ observer: @escaping Observer) {
        subscribers.withLockedValue { s in
            if !s.finished { s.observers.append(observer) }
        }
    }

    /// Whether any stream or observer is subscribed (a publisher may skip making an event nobody takes).
    var hasSubscribers: Bool {
        subscribers.withLockedValue { !$0.all.isEmpty || !$0.observers.isEmpty }
    }

    /// Hands `event` to every subscriber (yielding never waits), then to every
    /// observer (outside the lock: an observer may subscribe).
    func publish(_ event: Event) {
        let observers = subscribers.withLockedValue { s in
            for subscriber in s.all.values { subscriber.yield(event) }
            return s.observers
        }
        for observer in observers { observer(event) }
    }

    /// Ends every stream and forgets every observer; later subscribers get an ended stream.
    func finish() {
        let all = subscribers.withLockedValue { s in
            defer {
                s.all = [:]
                s.observers = []
                s.finished = true
            }
            return Array(s.all.values)
        }
        for subscriber in all { subscriber.finish() }
    }
}
