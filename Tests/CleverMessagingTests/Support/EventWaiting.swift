import Logging
import NIOConcurrencyHelpers

@testable import CleverMessaging

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
}

/// The tags of the test registry's `slow` requests (``makeTestRegistry()``)
/// that started and that finished, so that a test waits for a handler to be
/// running, or to have answered, instead of sleeping.
let slowHandlerTags = Watched<(started: Set<String>, finished: Set<String>)>(([], []))

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

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            recorder.messages.update { $0.append(message.description) }
        }
    }
}
