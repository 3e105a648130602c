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
        let subscribed = subscribers.withLockedValue { s -> Bool in
            guard !s.finished else { return false }
            s.next += 1
            s.all[s.next] = continuation
            return true
        }
        guard subscribed else {
            continuation.finish()
            return stream
        }
        // No `onTermination` that takes the table's lock: a reader cancelled while
        // an event is yielded to it under that lock would wait for the lock while
        // the yield waits for the reader's task. An ended stream is dropped at the
        // next event instead (``publish(_:)``).
        return stream
    }

    /// Calls `observer` with every event published from now on, until ``finish()``
    /// (no stream, no task: for callers that watch thousands of roles).
    func observe(_ observer: @escaping Observer) {
        subscribers.withLockedValue { s in
            if !s.finished { s.observers.append(observer) }
        }
    }

    /// Whether any stream or observer is subscribed (a publisher may skip making an event nobody takes;
    /// a stream that ended counts until the next event).
    var hasSubscribers: Bool {
        subscribers.withLockedValue { !$0.all.isEmpty || !$0.observers.isEmpty }
    }

    /// Hands `event` to every subscriber (yielding never waits), then to every
    /// observer (outside the lock: an observer may subscribe).
    func publish(_ event: Event) {
        let observers = subscribers.withLockedValue { s in
            var ended: [Int] = []
            for (key, subscriber) in s.all {
                if case .terminated = subscriber.yield(event) { ended.append(key) }
            }
            for key in ended { s.all[key] = nil }
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
