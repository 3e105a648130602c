/// Waits on a stream of events rather than polling state: returns the first
/// event that `matches`, or `nil` when the stream ends or `timeout` passes first.
func firstEvent<Event: Sendable>(
    in events: AsyncStream<Event>,
    within timeout: Duration = .seconds(20),
    where matches: @escaping @Sendable (Event) -> Bool = { _ in true }
) async -> Event? {
    await withTaskGroup(of: Event?.self) { group in
        group.addTask {
            for await event in events where matches(event) { return event }
            return nil
        }
        group.addTask {
            // A deadline, not a poll: it only bounds how long a broken test waits.
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Waits for `count` events that `match` (see ``firstEvent(in:within:where:)``).
/// - Returns: whether they all came in time.
func events<Event: Sendable>(
    _ count: Int,
    in events: AsyncStream<Event>,
    within timeout: Duration = .seconds(20),
    where matches: @escaping @Sendable (Event) -> Bool = { _ in true }
) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            var seen = 0
            for await event in events where matches(event) {
                seen += 1
                if seen == count { return true }
            }
            return false
        }
        group.addTask {
            // A deadline, not a poll.
            try? await Task.sleep(for: timeout)
            return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
}
