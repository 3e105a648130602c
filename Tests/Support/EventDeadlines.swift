/// The result of `body`, or `fallback` when `timeout` passes first. The
/// deadline only bounds how long a broken test waits: the awaited event ends
/// the wait, not the timer.
public func withDeadline<T: Sendable>(
    _ timeout: Duration,
    else fallback: T,
    _ body: @escaping @Sendable () async -> T
) async -> T {
    await withTaskGroup(of: T.self) { group in
        group.addTask { await body() }
        group.addTask {
            // A real timer: the wait's deadline, never its pace.
            try? await Task.sleep(for: timeout)
            return fallback
        }
        let first = await group.next() ?? fallback
        group.cancelAll()
        return first
    }
}

/// Waits on a stream of events rather than polling state: returns the first
/// event that `matches`, or `nil` when the stream ends or `timeout` passes first.
public func firstEvent<Event: Sendable>(
    in events: AsyncStream<Event>,
    within timeout: Duration = .seconds(20),
    where matches: @escaping @Sendable (Event) -> Bool = { _ in true }
) async -> Event? {
    await withDeadline(timeout, else: nil) {
        for await event in events where matches(event) { return event }
        return nil
    }
}

/// Waits for `count` events that `match` (see ``firstEvent(in:within:where:)``).
/// - Returns: whether they all came in time.
public func events<Event: Sendable>(
    _ count: Int,
    in events: AsyncStream<Event>,
    within timeout: Duration = .seconds(20),
    where matches: @escaping @Sendable (Event) -> Bool = { _ in true }
) async -> Bool {
    await withDeadline(timeout, else: false) {
        var seen = 0
        for await event in events where matches(event) {
            seen += 1
            if seen == count { return true }
        }
        return false
    }
}
