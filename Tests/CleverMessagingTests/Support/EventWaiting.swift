import CleverTestSupport
import Logging
import NIOConcurrencyHelpers

@testable import CleverMessaging

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
