import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The timer that fails a connection's requests past their deadline.
///
/// It is an object of its own, held only by its ``Connection``, so that the
/// timers it schedules can hold it weakly: a timer that holds the connection
/// weakly instead gives every connection a weak-reference side table, and
/// then every retain and release of a connection (thousands for one request
/// to all) takes the runtime's slow path. When the connection goes, this goes
/// with it, and its pending timers find nothing to do.
final class RequestTimeouts: Sendable {
    /// The state of the connection (the same lock and value).
    private let state: AdaptiveLockedBox<Connection.State>
    private let eventLoop: any EventLoop
    private let logger: Logger

    init(state: AdaptiveLockedBox<Connection.State>, eventLoop: any EventLoop, logger: Logger) {
        self.state = state
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Arms the timer for the earliest live deadline, unless the armed timer
    /// already fires before it: a timer that fires with nothing expired just re-arms.
    ///
    /// A timer that an earlier deadline replaces is not cancelled, because
    /// cancelling a NIO timer searches the event loop's whole timer queue
    /// (with thousands of connections on a loop, that made every request that
    /// shortened the deadline cost tens of microseconds). It fires later,
    /// holds no strong reference, and only expires what is due.
    /// Runs on the event loop.
    func arm() {
        state.withLockedValue { s in
            s.requestTimerArming = false
            guard let next = s.pending.nextDeadline(), let generation = s.requestTimer.arm(next) else { return }
            s.requestTimerTask = eventLoop.scheduleTask(deadline: next) { [weak self] in
                self?.fire(generation: generation)
            }
        }
    }

    /// Fails every request whose deadline passed; the current timer then re-arms. Runs on the event loop.
    private func fire(generation: Int) {
        let (expired, current) = state.withLockedValue { s -> ([(id: String, entry: PendingRequests.Entry)], Bool) in
            let current = s.requestTimer.fired(generation)
            if current { s.requestTimerTask = nil }
            return (s.pending.expired(now: .now()), current)
        }
        for (id, entry) in expired {
            logger.debug("request \(id) for \(entry.requestedValue) timed out")
            entry.finish(.failure(.timedOut(requestedValue: entry.requestedValue, requestID: id, timeout: Duration(entry.timeout ?? .zero))))
        }
        if current { arm() }
    }
}
