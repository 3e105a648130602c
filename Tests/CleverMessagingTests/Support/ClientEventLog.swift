import CleverMessaging
import CleverTestSupport

/// A client's link events, each with the instant it was published: an
/// observer stamps them as the client publishes them (on the client's task,
/// in order), so a wait the client made between two events is never longer
/// than the stamps' difference. Tests wait on these events instead of counting
/// attempts over a window of wall clock.
final class ClientEventLog: Sendable {
    /// One event and when it was published.
    struct Entry: Sendable {
        var event: MessagingClient.Event
        var at: ContinuousClock.Instant
    }

    private let entries = Watched<[Entry]>([])

    /// Records `client`'s events from now on (before its ``MessagingClient/run()``, to see all of them).
    init(_ client: MessagingClient) {
        client.observeEvents { [entries] event in
            let now = ContinuousClock.now
            entries.update { $0.append(Entry(event: event, at: now)) }
        }
    }

    /// The events so far.
    var all: [Entry] { entries.value }

    /// Waits until `count` events match `matches`.
    /// - Returns: whether they came within `timeout`.
    @discardableResult
    func wait(
        for count: Int, timeout: Duration = .seconds(30), where matches: @escaping @Sendable (MessagingClient.Event) -> Bool
    ) async -> Bool {
        await entries.wait(timeout: timeout) { $0.filter { matches($0.event) }.count >= count }
    }

    /// For each event matching `from`, how long until the next event matching `to` (followed ones only).
    func waits(
        from: (MessagingClient.Event) -> Bool, to: (MessagingClient.Event) -> Bool
    ) -> [Duration] {
        var started: ContinuousClock.Instant?
        var waits: [Duration] = []
        for entry in all {
            if let start = started, to(entry.event) {
                waits.append(entry.at - start)
                started = nil
            }
            if started == nil, from(entry.event) { started = entry.at }
        }
        return waits
    }
}

extension MessagingClient.Event {
    /// Whether this is a `connecting` event.
    var isConnecting: Bool {
        if case .connecting = self { return true }
        return false
    }

    /// Whether this is a `connected` event.
    var isConnected: Bool {
        if case .connected = self { return true }
        return false
    }

    /// Whether this is a `disconnected` event.
    var isDisconnected: Bool {
        if case .disconnected = self { return true }
        return false
    }
}
