import Logging
import NIOConcurrencyHelpers

@testable import CleverMessaging

/// The result of `body`, or `fallback` when `timeout` passes first. The
/// deadline only bounds how long a broken test waits: the awaited event ends
/// the wait, not the timer.
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    else fallback: T,
    _ body: @escaping @Sendable () async -> T
) async -> T {
    await withTaskGroup(of: T.self) { group in
        group.addTask { await body() }
        group.addTask {
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
func firstEvent<Event: Sendable>(
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
func events<Event: Sendable>(
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

/// A value that tests wait on: every change through ``update(_:)`` wakes the
/// waiters whose condition now holds (no polling; the timeout is only a deadline).
final class Watched<Value: Sendable>: Sendable {
    private let box: NIOLockedValueBox<Value>
    private let waiters = StateWaiters()

    init(_ value: Value) {
        box = NIOLockedValueBox(value)
    }

    /// The value now.
    var value: Value { box.withLockedValue { $0 } }

    /// Changes the value and wakes the waiters.
    @discardableResult
    func update<Result>(_ body: (inout Value) -> Result) -> Result {
        let result = box.withLockedValue { body(&$0) }
        waiters.changed()
        return result
    }

    /// Waits until `condition` holds for the value, or `timeout` passes.
    /// - Returns: whether it held.
    @discardableResult
    func wait(timeout: Duration = .seconds(10), until condition: @escaping @Sendable (Value) -> Bool) async -> Bool {
        await waiters.wait(timeout: timeout) { [box] in condition(box.withLockedValue { $0 }) }
    }

    /// Waits, with no deadline, until `condition` holds; throws `CancellationError` when the task is cancelled first.
    func waitCancellably(until condition: @escaping @Sendable (Value) -> Bool) async throws {
        guard await waiters.wait(until: { [box] in condition(box.withLockedValue { $0 }) }) else { throw CancellationError() }
    }
}

/// The tags of the test registry's `slow` requests (``makeTestRegistry()``)
/// that started, that the test released, and that finished: a test waits for a
/// handler to be running, lets it answer, and waits for the answer, instead of sleeping.
let slowHandlerTags = Watched<SlowHandlerTags>(SlowHandlerTags())

/// See ``slowHandlerTags``.
struct SlowHandlerTags: Sendable {
    var started: Set<String> = []
    var released: Set<String> = []
    var finished: Set<String> = []
}

/// Releases the `slow` request tagged `tag`: its handler answers now.
func releaseSlowHandler(_ tag: String) {
    slowHandlerTags.update { _ = $0.released.insert(tag) }
}

/// A fresh tag for a `slow` request.
func newSlowTag() -> String {
    "slow-\(UInt64.random(in: 0...UInt64.max))"
}

/// The messages logged through its ``logger()``, for tests to wait on (a log
/// line is often the only sign that a peer's frame was dealt with).
final class LogMessages: Sendable {
    let messages = Watched<[String]>([])

    /// A logger that records here (every level).
    func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    /// Waits until `count` messages equal to `message` were logged.
    /// - Returns: whether they were within `timeout`.
    @discardableResult
    func wait(for message: String, count: Int = 1, timeout: Duration = .seconds(10)) async -> Bool {
        await messages.wait(timeout: timeout) { $0.lazy.filter { $0 == message }.count >= count }
    }

    struct Handler: LogHandler {
        let recorder: LogMessages
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.messages.update { $0.append(event.message.description) }
        }
    }
}

extension MessagingServer {
    /// Waits until the number of connections satisfies `condition`, woken by each
    /// link that comes or goes (no polling; the timeout is only a deadline).
    /// - Returns: whether it held within `timeout`.
    func waitForConnectionCount(timeout: Duration = .seconds(10), _ condition: @escaping @Sendable (Int) -> Bool) async -> Bool {
        await waiters.wait(timeout: timeout) { [weak self] in condition(self?.connections.count ?? 0) }
    }
}
